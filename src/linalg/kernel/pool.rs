//! Worker threads kept alive between products, so that splitting a product (or an
//! element-wise pass, see `for_each_row_block`) across threads does not pay for starting a
//! thread each time.
//!
//! Book chapter: "Making it fast" (Threads). Starting and joining a thread for every product
//! costs a large share of a product split in two (the book measures it). A worker here
//! waits for its next job by spinning for a short while (consecutive products in training
//! come at most a fraction of a millisecond apart), then sleeps.
//!
//! Only one product uses the pool at a time; a product that finds it busy (another thread
//! of the program is multiplying) falls back to scoped threads. Either way every block of C
//! is computed by the same code, so the result does not depend on which ran it.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// A job: a borrowed closure (whose lifetime has been erased) and the block it is to
/// compute. [`run`] keeps the closure alive until the worker reports it done.
type Job = (*const (dyn Fn(usize) + Sync), usize);

const IDLE: u32 = 0;
const READY: u32 = 1;
const DONE: u32 = 2;
const PANICKED: u32 = 3;

/// How long a worker spins for its next job before it sleeps (and how long a caller spins
/// for its workers before it yields): longer than the element-wise work between two
/// products of one training step, short enough not to hold a core for long after the last.
/// Timed, not counted, because a spin-loop hint lasts anywhere from a few to 140 cycles
/// depending on the CPU.
const SPIN: Duration = Duration::from_micros(300);

/// One worker's mailbox.
struct Slot {
    state: AtomicU32,
    job: UnsafeCell<Option<Job>>,
}

// SAFETY: `job` is written only by the owner of the pool lock while `state` is IDLE (the
// worker is not reading it) and read by the worker only after it sees READY (Acquire after
// the writer's Release); the closure it points to is `Sync`.
unsafe impl Sync for Slot {}
// SAFETY: as above; the raw pointer is only dereferenced under that protocol.
unsafe impl Send for Slot {}

struct Worker {
    slot: Arc<Slot>,
    thread: Thread,
}

/// The pool: workers are started on first need and live as long as the program.
struct Pool {
    workers: Vec<Worker>,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    workers: Vec::new(),
});

/// Runs `job(0)` … `job(count − 1)`, one per thread, and returns when all are done: on the
/// pool's workers (the calling thread takes the last) if the pool is free, otherwise on
/// threads started for the purpose.
///
/// # Panics
/// If a job panics.
pub(super) fn run(count: usize, job: &(dyn Fn(usize) + Sync)) {
    if count == 0 || try_run(count, job) {
        return;
    }
    thread::scope(|s| {
        for i in 0..count - 1 {
            s.spawn(move || job(i));
        }
        job(count - 1);
    });
}

/// [`run`] on the pool's workers only. Returns `false`, running nothing, if the pool is in
/// use. Allocates nothing once the workers exist.
///
/// # Panics
/// If a job panics (on a worker, the panic is reported here).
fn try_run(count: usize, job: &(dyn Fn(usize) + Sync)) -> bool {
    if count == 0 {
        return true;
    }
    let mut pool = match POOL.try_lock() {
        Ok(pool) => pool,
        // Poisoned only if starting a worker failed: the workers list is still consistent.
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    let others = count - 1;
    while pool.workers.len() < others {
        pool.workers.push(start_worker());
    }
    // SAFETY: only the lifetime is erased: `job` outlives every use of the pointer, since
    // this call waits for every worker's DONE before it returns.
    let erased = unsafe {
        std::mem::transmute::<&(dyn Fn(usize) + Sync), *const (dyn Fn(usize) + Sync)>(job)
    };
    for (i, worker) in pool.workers[..others].iter().enumerate() {
        // SAFETY: the worker is IDLE (every job of the previous `run` was waited for), so
        // nothing reads the slot now.
        unsafe { *worker.slot.job.get() = Some((erased, i)) };
        worker.slot.state.store(READY, Ordering::Release);
        worker.thread.unpark();
    }
    // Even if our own block panics, every worker must finish before this frame (and the
    // closure the workers were lent) goes away.
    let own = catch_unwind(AssertUnwindSafe(|| job(others)));
    let mut panicked = false;
    for worker in &pool.workers[..others] {
        let state = wait_while(&worker.slot.state, READY);
        panicked |= state == PANICKED;
        worker.slot.state.store(IDLE, Ordering::Relaxed);
    }
    drop(pool);
    if let Err(payload) = own {
        resume_unwind(payload);
    }
    assert!(!panicked, "a gemm worker thread panicked");
    true
}

/// Spins (for [`SPIN`], then yielding) until `state` is no longer `busy`; returns it.
fn wait_while(state: &AtomicU32, busy: u32) -> u32 {
    let start = Instant::now();
    loop {
        let now = state.load(Ordering::Acquire);
        if now != busy {
            return now;
        }
        if start.elapsed() < SPIN {
            std::hint::spin_loop();
        } else {
            thread::yield_now();
        }
    }
}

fn start_worker() -> Worker {
    let slot = Arc::new(Slot {
        state: AtomicU32::new(IDLE),
        job: UnsafeCell::new(None),
    });
    let mine = Arc::clone(&slot);
    let handle = thread::Builder::new()
        .name("scratchnet-gemm".into())
        .spawn(move || work(&mine))
        .expect("could not start a gemm worker thread");
    Worker {
        slot,
        thread: handle.thread().clone(),
    }
}

/// A worker's life: wait for READY (spinning for [`SPIN`], then sleeping), run the job,
/// report DONE.
fn work(slot: &Slot) {
    loop {
        let start = Instant::now();
        while slot.state.load(Ordering::Acquire) != READY {
            if start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                // Woken by `run`'s unpark (or spuriously: the loop checks again).
                thread::park();
            }
        }
        // SAFETY: READY was stored (Release) after `job` was written, and `run` keeps the
        // closure alive until we store DONE.
        let job = unsafe { (*slot.job.get()).take() };
        let ok = job.is_some_and(|(job, i)| {
            // SAFETY: as above.
            let job = unsafe { &*job };
            catch_unwind(AssertUnwindSafe(|| job(i))).is_ok()
        });
        slot.state
            .store(if ok { DONE } else { PANICKED }, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Runs `count` jobs that count themselves and panic at `bad`; then a clean run, which
    /// must still use every block exactly once.
    fn panic_then_clean(count: usize, bad: usize) {
        let seen = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            while !try_run(count, &|i| {
                seen.fetch_add(1, Ordering::SeqCst);
                assert!(i != bad, "job {i} fails on purpose");
            }) {
                thread::yield_now(); // another test holds the pool
            }
        }));
        assert!(
            result.is_err(),
            "the panic of job {bad} did not reach the caller"
        );
        assert_eq!(
            seen.load(Ordering::SeqCst),
            count,
            "every job ran before the caller went on"
        );
        let blocks: Vec<AtomicUsize> = (0..count).map(|_| AtomicUsize::new(0)).collect();
        while !try_run(count, &|i| {
            blocks[i].fetch_add(1, Ordering::SeqCst);
        }) {
            thread::yield_now();
        }
        assert!(blocks.iter().all(|b| b.load(Ordering::SeqCst) == 1));
    }

    #[test]
    fn a_panicking_worker_reaches_the_caller_and_the_pool_still_works() {
        panic_then_clean(3, 0);
    }

    #[test]
    fn a_panicking_caller_waits_for_its_workers_and_the_pool_still_works() {
        panic_then_clean(3, 2);
    }
}
