//! An allocator that starts every buffer of 1 KiB or more on a 64-byte cache line.
//!
//! Book chapter: "Making it fast" ("Start on a cache line"). A vector load that straddles two
//! cache lines costs two reads of L1, and the system allocator starts a buffer only on a
//! 16-byte boundary: a matrix whose rows begin 16 bytes into a line splits every other
//! 32-byte load, and every 64-byte one. Programs declare it as their allocator:
//!
//! ```
//! #[global_allocator]
//! static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;
//! ```
//!
//! The `scratchnet` binary, the examples and the benches do; a program that does not gets
//! the same results, more slowly.

use std::alloc::{GlobalAlloc, Layout, System};

/// The cache line: 64 bytes on x86-64 and most ARM cores.
pub const CACHE_LINE: usize = 64;

/// Buffers from this size (in bytes) start on a cache line; smaller ones (strings, small
/// vectors) keep the alignment their type asks for, so as not to waste the padding.
pub const ALIGNED_FROM: usize = 1024;

/// The system allocator, asking for [`CACHE_LINE`] alignment for every buffer of
/// [`ALIGNED_FROM`] bytes or more. Values and results are unchanged; only where buffers
/// start moves.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheAligned;

/// The layout actually asked of the system for `layout`: the same size, aligned to a cache
/// line when the buffer is large.
fn widened(layout: Layout) -> Layout {
    if layout.size() >= ALIGNED_FROM && layout.align() < CACHE_LINE {
        // A size that fitted a layout with a smaller power-of-two alignment still fits.
        Layout::from_size_align(layout.size(), CACHE_LINE).unwrap_or(layout)
    } else {
        layout
    }
}

// SAFETY: every call is forwarded to `System` with the widened layout, which keeps the
// caller's size and at least its alignment; `dealloc` and `realloc` widen the caller's
// layout the same way `alloc` did, so `System` always gets back the layout it handed out.
unsafe impl GlobalAlloc for CacheAligned {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promise (a non-zero size) holds for the widened layout.
        unsafe { System.alloc(widened(layout)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(widened(layout)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with `layout`, so from `System` with its widening.
        unsafe { System.dealloc(ptr, widened(layout)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = widened(layout);
        // SAFETY: the caller promises `new_size`, rounded up to `layout.align()`, does not
        // overflow `isize`.
        let new = widened(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if new.align() == old.align() {
            // SAFETY: `ptr` came from `System` with `old`; the same alignment is kept.
            return unsafe { System.realloc(ptr, old, new_size) };
        }
        // Crossing ALIGNED_FROM changes the alignment, which `realloc` cannot: move it.
        // SAFETY: `new` has a non-zero size (the caller's promise); both buffers hold at
        // least the smaller size, and `ptr` came from `System` with `old`.
        unsafe {
            let moved = System.alloc(new);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                System.dealloc(ptr, old);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_start_on_a_cache_line_and_keep_their_values() {
        let a = CacheAligned;
        for (size, align) in [(1024, 4), (4096, 8), (62_720, 4), (3000, 1)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: a non-zero size; the buffer is written within its size, then freed
            // with the layout it was allocated with (after a realloc, the new size).
            unsafe {
                let p = a.alloc(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % CACHE_LINE, 0, "{size} bytes");
                p.write_bytes(7, size);
                // Shrinking below ALIGNED_FROM and growing back across it keep the bytes.
                let q = a.realloc(p, layout, 100);
                assert!(std::slice::from_raw_parts(q, 100).iter().all(|&b| b == 7));
                let small = Layout::from_size_align(100, align).unwrap();
                let r = a.realloc(q, small, 2 * size);
                assert_eq!(r as usize % CACHE_LINE, 0);
                assert!(std::slice::from_raw_parts(r, 100).iter().all(|&b| b == 7));
                a.dealloc(r, Layout::from_size_align(2 * size, align).unwrap());
            }
        }
    }

    #[test]
    fn small_and_already_aligned_layouts_are_left_alone() {
        let small = Layout::from_size_align(1023, 4).unwrap();
        assert_eq!(widened(small), small);
        let page = Layout::from_size_align(8192, 4096).unwrap();
        assert_eq!(widened(page), page);
        let big = Layout::from_size_align(1024, 4).unwrap();
        assert_eq!(widened(big).align(), CACHE_LINE);
        assert_eq!(widened(big).size(), 1024);
    }
}
