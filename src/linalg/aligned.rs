//! An allocator that starts every buffer of 1 KiB or more on a 64-byte cache line.
//!
//! Book chapter: "Making it fast" ("A host with two 512-bit FMA units"). A vector load that
//! straddles two cache lines costs two reads of L1, and the system allocator starts a buffer
//! only on a 16-byte boundary: a matrix whose rows begin 16 bytes into a line splits every
//! other 32-byte load, and every 64-byte one. Programs declare it as their allocator:
//!
//! ```
//! #[global_allocator]
//! static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;
//! ```
//!
//! The `scratchnet` binary, the examples and the benches do; a program that does not gets
//! the same results, more slowly.
//!
//! How: each large buffer is asked of the system 64 bytes longer, and handed out from the
//! first cache line boundary inside it, with the distance back to the system's start written
//! in the `usize` just before. (Not by asking the system for 64-byte alignment: the C
//! library then splits its heap around each buffer and copies a buffer on every `realloc`,
//! even a shrink, which raised training's peak memory.)

use std::alloc::{GlobalAlloc, Layout, System};

/// The cache line: 64 bytes on x86-64 and most ARM cores.
pub const CACHE_LINE: usize = 64;

/// Buffers from this size (in bytes) start on a cache line; smaller ones (strings, small
/// vectors) are left as the system places them, so as not to pay 64 bytes for each.
pub const ALIGNED_FROM: usize = 1024;

/// The alignment the system's block of a realigned buffer is asked for (`malloc`'s own on
/// 64-bit Linux, so the request costs nothing extra there); a caller asking for more is
/// passed through to the system unchanged.
const SYSTEM_ALIGN: usize = 16;

/// The system allocator, with every buffer of [`ALIGNED_FROM`] bytes or more (whose type asks
/// for an alignment of at most 16) starting on a [`CACHE_LINE`] boundary. Values and results
/// are unchanged; only where buffers start moves.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheAligned;

/// Whether a buffer of this layout is placed on a cache line (and so has a header).
fn realigned(layout: Layout) -> bool {
    layout.size() >= ALIGNED_FROM && layout.align() <= SYSTEM_ALIGN
}

/// The layout asked of the system for a realigned buffer of `size` bytes: a cache line more.
fn padded(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(CACHE_LINE)?, SYSTEM_ALIGN).ok()
}

/// The layout of the system's block for a realigned buffer of `size` bytes, which
/// [`padded`] returned when the buffer was made.
///
/// # Safety
/// `padded(size)` is `Some`.
unsafe fn padded_unchecked(size: usize) -> Layout {
    // SAFETY: the caller's promise: `padded` checked that this sum and layout are valid.
    unsafe { Layout::from_size_align_unchecked(size + CACHE_LINE, SYSTEM_ALIGN) }
}

/// The first cache-line boundary strictly inside the system's block at `raw` (16 to 64 bytes
/// in, since `raw` is 16-byte aligned), with the distance written in the `usize` before it.
///
/// # Safety
/// `raw` is non-null, 16-byte aligned, and starts a writable block of at least 64 bytes.
unsafe fn start_in(raw: *mut u8) -> *mut u8 {
    let offset = CACHE_LINE - raw.addr() % CACHE_LINE;
    // SAFETY: 16 ≤ offset ≤ 64 lies inside the block, and the `usize` before the returned
    // pointer (offset − 8 ≥ 8 bytes in) is inside it too, and aligned.
    unsafe {
        let start = raw.add(offset);
        start.cast::<usize>().sub(1).write(offset);
        start
    }
}

/// The distance from the system's block to the buffer at `ptr` (what [`start_in`] wrote).
///
/// # Safety
/// `ptr` was returned by [`start_in`] and its block is still allocated.
unsafe fn header_offset(ptr: *mut u8) -> usize {
    // SAFETY: the caller's promise: [`start_in`] wrote it there.
    unsafe { ptr.cast::<usize>().sub(1).read() }
}

// SAFETY: a buffer that is not realigned goes to `System` unchanged. A realigned one is a
// part of a system block of `padded(size)`, at 16 to 64 bytes in, so it holds `size` bytes
// and is 64-byte aligned (at least what the caller asked, which is ≤ 16); `dealloc` and
// `realloc` find the block again from the header and give `System` back the layout it
// handed out. A call whose layout crosses between the two kinds moves the buffer.
unsafe impl GlobalAlloc for CacheAligned {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promise (a non-zero size).
        unsafe { allocate(layout, |block| System.alloc(block)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`; the buffer's bytes are zero, only the header before it is not.
        unsafe { allocate(layout, |block| System.alloc_zeroed(block)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !realigned(layout) {
            // SAFETY: `ptr` came from `System` with `layout`.
            return unsafe { System.dealloc(ptr, layout) };
        }
        // SAFETY: `ptr` came from `alloc` with `layout`: its block starts `offset` bytes
        // before it and was allocated with `padded(size)`, which `alloc` found to exist.
        unsafe {
            let raw = ptr.sub(header_offset(ptr));
            System.dealloc(raw, padded_unchecked(layout.size()));
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller promises `new_size`, rounded up to `layout.align()`, fits isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (realigned(layout), realigned(new_layout)) {
            // SAFETY: `ptr` came from `System` with `layout`.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            // SAFETY: `ptr` is a realigned buffer of `layout.size()` bytes.
            (true, true) => unsafe { resize(ptr, layout.size(), new_size) },
            // Crossing ALIGNED_FROM: a new buffer of the other kind, the bytes copied over.
            _ => {
                // SAFETY: `new_layout` has a non-zero size (the caller's promise); both
                // buffers hold the smaller size; `ptr` came from this allocator with `layout`.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    moved
                }
            }
        }
    }
}

/// A new buffer for `layout` from `system` (`System.alloc` or `System.alloc_zeroed`): the
/// system's own, or a realigned one inside a padded block.
///
/// # Safety
/// `layout` has a non-zero size; `system` allocates as `System.alloc` does.
unsafe fn allocate(layout: Layout, system: impl FnOnce(Layout) -> *mut u8) -> *mut u8 {
    if !realigned(layout) {
        return system(layout);
    }
    let Some(block) = padded(layout.size()) else {
        return std::ptr::null_mut();
    };
    let raw = system(block);
    if raw.is_null() {
        return raw;
    }
    // SAFETY: a non-null block from the system is 16-byte aligned and ≥ 64 bytes.
    unsafe { start_in(raw) }
}

/// `realloc` for a realigned buffer that stays realigned: the system resizes its block, and
/// if the block moved to a different offset from a cache line, the bytes move within it.
///
/// # Safety
/// `ptr` is a realigned buffer of `old_size` bytes from [`CacheAligned`], and `new_size` is
/// at least [`ALIGNED_FROM`].
unsafe fn resize(ptr: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
    let Some(new_block) = padded(new_size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the block was allocated with `padded(old_size)`; the system keeps its first
    // min(old, new) + 64 bytes, so the buffer's first min(old, new) bytes at `offset` survive
    // (on failure the old block is untouched), and if the block moved to a different offset
    // from a cache line they are moved within it (the ranges may overlap) to the new start,
    // which lies inside the new block with room for them.
    unsafe {
        let offset = header_offset(ptr);
        let raw = System.realloc(
            ptr.sub(offset),
            padded_unchecked(old_size),
            new_block.size(),
        );
        if raw.is_null() {
            return raw;
        }
        let new_offset = CACHE_LINE - raw.addr() % CACHE_LINE;
        if new_offset != offset {
            std::ptr::copy(raw.add(offset), raw.add(new_offset), old_size.min(new_size));
        }
        start_in(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer of `size` bytes from `CacheAligned`, filled with a pattern, then grown and
    /// shrunk across and within `ALIGNED_FROM`: every step keeps the bytes it keeps, and
    /// every large buffer starts on a cache line.
    fn round_trip(sizes: &[usize], align: usize) {
        let a = CacheAligned;
        let pattern = |i: usize| (i * 7 + 3) as u8;
        let mut layout = Layout::from_size_align(sizes[0], align).unwrap();
        // SAFETY: non-zero sizes; each pointer is used within its layout's size and handed
        // back with the layout it was last (re)allocated with.
        unsafe {
            let mut p = a.alloc(layout);
            assert!(!p.is_null());
            for i in 0..layout.size() {
                p.add(i).write(pattern(i));
            }
            for &size in &sizes[1..] {
                let kept = layout.size().min(size);
                p = a.realloc(p, layout, size);
                assert!(!p.is_null());
                layout = Layout::from_size_align(size, align).unwrap();
                if realigned(layout) {
                    assert_eq!(p as usize % CACHE_LINE, 0, "{size} bytes");
                }
                assert_eq!(p as usize % align, 0);
                for i in 0..kept {
                    assert_eq!(p.add(i).read(), pattern(i), "byte {i} after {size}");
                }
                for i in kept..size {
                    p.add(i).write(pattern(i));
                }
            }
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn large_buffers_start_on_a_cache_line_and_keep_their_bytes() {
        round_trip(
            &[1024, 62_720, 100, 3000, 1 << 20, 47 << 20, 39 << 20, 1024],
            4,
        );
        round_trip(&[5000, 200, 8, 4096, 4095, 1023, 1024], 1);
        round_trip(&[4096, 100_000, 2048], 16);
        // Types asking for more alignment than 16 are the system's, unchanged.
        for align in [32, 64, 4096] {
            round_trip(&[2048, 100, 9000, 64], align);
        }
    }

    /// A seeded mix of allocations, reallocations and frees, 1 byte to 300 KB, alignments 1
    /// to 16, with up to 40 buffers alive: every buffer keeps its bytes and every large one
    /// starts on a line, whatever the system does with the blocks (a block that moves to a
    /// different distance from a cache line has its bytes moved inside it).
    #[test]
    fn mixed_allocations_keep_their_bytes() {
        let a = CacheAligned;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % below
        };
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let check = |p: *mut u8, layout: Layout, tag: u8| {
            // SAFETY: `p` holds `layout.size()` bytes, all written with `tag`.
            let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
            assert!(bytes.iter().all(|&b| b == tag), "{layout:?}");
            if layout.size() >= ALIGNED_FROM {
                assert_eq!(p as usize % CACHE_LINE, 0, "{layout:?}");
            }
        };
        for step in 0..4000 {
            let large = next(4) == 0;
            let size = 1 + next(if large { 300_000 } else { 3000 });
            // SAFETY: non-zero sizes; every pointer is used within its layout and handed back
            // with the layout it was last (re)allocated with.
            unsafe {
                if live.len() < 40 && next(3) == 0 {
                    let layout = Layout::from_size_align(size, 1 << next(5)).unwrap();
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    p.write_bytes(step as u8, size);
                    live.push((p, layout, step as u8));
                } else if !live.is_empty() && next(2) == 0 {
                    let (p, layout, tag) = live.swap_remove(next(live.len()));
                    check(p, layout, tag);
                    a.dealloc(p, layout);
                } else if !live.is_empty() {
                    let i = next(live.len());
                    let (p, layout, tag) = live[i];
                    let q = a.realloc(p, layout, size);
                    assert!(!q.is_null());
                    let new = Layout::from_size_align(size, layout.align()).unwrap();
                    check(
                        q,
                        Layout::from_size_align(size.min(layout.size()), 1).unwrap(),
                        tag,
                    );
                    q.write_bytes(tag, size);
                    live[i] = (q, new, tag);
                }
            }
        }
        for (p, layout, tag) in live {
            check(p, layout, tag);
            // SAFETY: allocated above with this layout.
            unsafe { a.dealloc(p, layout) };
        }
    }

    #[test]
    fn zeroed_buffers_are_zero_and_aligned() {
        let a = CacheAligned;
        for size in [100, 1024, 70_000] {
            let layout = Layout::from_size_align(size, 4).unwrap();
            // SAFETY: a non-zero size, read within it, freed with the same layout.
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0));
                if size >= ALIGNED_FROM {
                    assert_eq!(p as usize % CACHE_LINE, 0);
                }
                a.dealloc(p, layout);
            }
        }
    }

    #[test]
    fn small_and_over_aligned_layouts_are_the_systems() {
        let at = |size, align| realigned(Layout::from_size_align(size, align).unwrap());
        assert!(!at(1023, 4) && at(1024, 4) && at(1024, 16));
        assert!(!at(8192, 4096) && !at(8192, 32));
        assert_eq!(padded(usize::MAX - 10), None);
    }
}
