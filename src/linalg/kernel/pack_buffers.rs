//! The pack buffers, kept for reuse: a product takes one from the store, grows it if it must,
//! and gives it back, so repeated products of the same size allocate nothing after the first
//! (`tests/no_alloc.rs` counts).
//!
//! Book chapter: "Making it fast" (Step 4). One buffer per block in flight: a threaded
//! product takes one per thread's block, so the store ends up holding as many as were ever
//! in use at once.

use std::sync::Mutex;

/// 64-byte-aligned storage for packed panels (a cache line, and a whole AVX-512 vector).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// One pack buffer: room for Ã and B̃, grown to the largest product it has served.
#[derive(Default)]
pub(super) struct PackBuffer(Vec<Line>);

/// The buffers no product is using now.
static PACK_BUFFERS: Mutex<Vec<PackBuffer>> = Mutex::new(Vec::new());

impl PackBuffer {
    /// Runs `f` with a buffer from the store (a new, empty one if the store has none) and
    /// puts it back afterwards.
    pub(super) fn with<R>(f: impl FnOnce(&mut PackBuffer) -> R) -> R {
        let mut buffer = PACK_BUFFERS
            .lock()
            .map(|mut store| store.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        let out = f(&mut buffer);
        if let Ok(mut store) = PACK_BUFFERS.lock() {
            store.push(buffer);
        }
        out
    }

    /// Grows the buffer to hold at least `elems` values of `T` and returns its start, aligned
    /// to 64 bytes.
    pub(super) fn room_for<T>(&mut self, elems: usize) -> *mut T {
        let lines = (elems * std::mem::size_of::<T>()).div_ceil(64);
        if self.0.len() < lines {
            self.0.resize(lines, Line([0; 64]));
        }
        self.0.as_mut_ptr().cast()
    }
}
