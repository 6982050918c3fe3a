//! The clock the matmul benches time with: wall time (criterion's default), or, with
//! `SCRATCHNET_BENCH_CLOCK=thread`, the CPU time of the benchmarking thread.
//!
//! On a machine shared with other work, wall time charges our benchmark for the time the OS
//! gives our core to someone else; the thread's CPU time does not (it still sees the cache
//! and memory traffic the neighbours cause). It cannot time work done on other threads, so
//! the two-thread benchmarks run only under the wall clock.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use std::time::Instant;

/// Wall time, or the calling thread's CPU time; both in nanoseconds.
pub struct Clock {
    thread_cpu: bool,
    start: Instant,
    wall: WallTime,
}

impl Clock {
    /// Reads `SCRATCHNET_BENCH_CLOCK` (`wall`, the default, or `thread`).
    pub fn from_env() -> Clock {
        let thread_cpu = match std::env::var("SCRATCHNET_BENCH_CLOCK").as_deref() {
            Ok("thread") => cfg!(target_os = "linux"),
            Ok("wall") | Err(_) => false,
            Ok(other) => panic!("SCRATCHNET_BENCH_CLOCK={other:?}: use wall or thread"),
        };
        Clock {
            thread_cpu,
            start: Instant::now(),
            wall: WallTime,
        }
    }

    /// Whether this clock can time work spread over several threads.
    pub fn is_wall(&self) -> bool {
        !self.thread_cpu
    }

    fn now_ns(&self) -> f64 {
        if self.thread_cpu {
            thread_cpu_ns()
        } else {
            self.start.elapsed().as_nanos() as f64
        }
    }
}

/// The calling thread's CPU time in nanoseconds (Linux only).
#[cfg(target_os = "linux")]
pub fn thread_cpu_ns() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (two 64-bit fields on x86-64 Linux).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.sec as f64 * 1e9 + ts.nsec as f64
}

/// Not available off Linux: [`Clock`] never asks for it there.
#[cfg(not(target_os = "linux"))]
pub fn thread_cpu_ns() -> f64 {
    unreachable!("the thread clock is only enabled on Linux")
}

impl Measurement for Clock {
    type Intermediate = f64;
    type Value = f64;
    fn start(&self) -> f64 {
        self.now_ns()
    }
    fn end(&self, start: f64) -> f64 {
        self.now_ns() - start
    }
    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }
    fn zero(&self) -> f64 {
        0.0
    }
    fn to_f64(&self, ns: &f64) -> f64 {
        *ns
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds either way, so criterion's own formatting applies.
        self.wall.formatter()
    }
}
