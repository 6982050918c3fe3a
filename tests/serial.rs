//! Tests that need the process to themselves, as one test binary: `no_alloc` counts
//! allocations with a global allocator, `threads` sets the global thread count, and
//! `serve_timing` measures the server against the clock. Each test holds [`serial`] while
//! it runs, so they run one at a time even though the test harness runs tests in parallel.

mod common;

mod no_alloc;
mod serve_timing;
mod threads;

use std::sync::{Mutex, MutexGuard};

/// Waits until no other test of this binary runs, and holds them off until dropped.
pub fn serial() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    // A test that failed while holding the lock leaves nothing behind to guard.
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
