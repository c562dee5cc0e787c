//! [`Watchdog`]: wall-clock deadlines for calls into the un-sandboxed Python
//! runtimes, which have no epoch interruption to stop them.
//!
//! Each node registers a [`Slot`] once, with a way to interrupt its running
//! code (raise an exception in it). A call stores its deadline in the slot
//! when it starts and takes it back when it ends: two atomic operations, so
//! the deadline costs a call almost nothing. The watchdog's thread looks at
//! the slots every [`TICK`] and interrupts each call past its deadline, and
//! again every [`REFIRE`] while it keeps running (code that swallows the
//! exception is interrupted again), until the call ends. The thread sleeps
//! while no node is registered.
//!
//! A slot is marked as fired (a bit of its deadline, set with a
//! compare-and-swap) *before* its interrupt runs, so a call that ends while
//! it is being interrupted always learns that it was. For runtimes whose
//! interrupt is delivered later (RustPython's signal channel), the slot's
//! `wanted` flag says whether the interrupt is still meant: the watchdog
//! sets it before it checks the deadline, and a call clears it after it
//! took its deadline back, so an interrupt that arrives after its call
//! ended does nothing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use nodehost_sdk::{ErrorKind, NodeError};

use crate::error::NodeFailure;

/// How often the watchdog looks at the running calls: its resolution.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// How long an interrupted call may go on before it is interrupted again.
pub(crate) const REFIRE: Duration = Duration::from_millis(100);

/// The message of the exception raised in a call past its deadline.
#[cfg(feature = "native-rustpython")]
pub(crate) const MESSAGE: &str = "the call ran past its deadline and was interrupted here";

/// Interrupts the call running in one slot. Runs on the watchdog's thread,
/// inside its gate.
pub(crate) type Interrupt = Box<dyn Fn() + Send + Sync>;

/// Runs `fire` in the context interrupts need: CPython's takes the GIL, so
/// that firing is ordered with the start and end of calls, which hold the
/// GIL too (and the lock order is always the GIL, then the watchdog's lock).
pub(crate) type Gate = fn(&mut dyn FnMut());

/// The deadline bit that says the running call was interrupted.
const FIRED: u64 = 1 << 63;

/// Where one node's running call keeps its deadline.
pub(crate) struct Slot {
    /// Nanoseconds after the watchdog's epoch, with [`FIRED`] once the call
    /// was interrupted; 0 while no call runs.
    deadline: AtomicU64,
    epoch: Instant,
    interrupt: Interrupt,
    wanted: Option<Arc<AtomicBool>>,
}

impl Slot {
    /// A call starts: interrupt it if it runs longer than `timeout`.
    pub(crate) fn start(&self, timeout: Duration) {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let timeout = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        self.deadline.store(now.saturating_add(timeout).clamp(1, FIRED - 1), Ordering::SeqCst);
    }

    /// The call has ended: it is interrupted no more. True when it was
    /// (it passed its deadline).
    pub(crate) fn finish(&self) -> bool {
        let deadline = self.deadline.swap(0, Ordering::SeqCst);
        if let Some(wanted) = &self.wanted {
            wanted.store(false, Ordering::SeqCst);
        }
        deadline & FIRED != 0
    }
}

/// A registered slot, as the watchdog's thread keeps it.
struct Watched {
    slot: Weak<Slot>,
    /// The call last interrupted (its deadline) and when.
    last: Option<(u64, Instant)>,
}

/// Watches the deadlines of running calls, on a thread of its own.
pub(crate) struct Watchdog {
    slots: Mutex<Vec<Watched>>,
    wake: Condvar,
    gate: Gate,
    epoch: Instant,
}

impl Watchdog {
    /// A watchdog whose thread, named `name`, runs for the rest of the
    /// process.
    ///
    /// # Panics
    /// When the thread cannot be started.
    pub(crate) fn start(name: &str, gate: Gate) -> &'static Watchdog {
        let dog: &'static Watchdog =
            Box::leak(Box::new(Watchdog { slots: Mutex::default(), wake: Condvar::new(), gate, epoch: Instant::now() }));
        std::thread::Builder::new().name(name.into()).spawn(move || dog.watch()).expect("spawn a watchdog thread");
        dog
    }

    /// A slot for one node's calls, watched while it lives. `interrupt`
    /// stops the node's running code; `wanted`, for interrupts delivered
    /// later, is set while the interrupt is meant, and the node's runtime
    /// clears it when it takes the interruption (while it is set the
    /// interrupt is sent again at every [`TICK`], as it may have been
    /// missed).
    pub(crate) fn register(&self, interrupt: Interrupt, wanted: Option<Arc<AtomicBool>>) -> Arc<Slot> {
        let slot = Arc::new(Slot { deadline: AtomicU64::new(0), epoch: self.epoch, interrupt, wanted });
        let mut slots = self.slots.lock().expect("watchdog lock");
        slots.push(Watched { slot: Arc::downgrade(&slot), last: None });
        if slots.len() == 1 {
            self.wake.notify_one();
        }
        slot
    }

    fn watch(&self) {
        loop {
            let due = {
                let mut slots = self.slots.lock().expect("watchdog lock");
                slots.retain(|w| w.slot.strong_count() > 0);
                while slots.is_empty() {
                    slots = self.wake.wait(slots).expect("watchdog lock");
                }
                let now = Instant::now();
                slots.iter().any(|w| self.due(w, now).is_some())
            };
            if due {
                (self.gate)(&mut || self.fire_due());
            }
            std::thread::sleep(TICK);
        }
    }

    /// The slot and the deadline of its call, when that call must be
    /// interrupted now.
    fn due(&self, watched: &Watched, now: Instant) -> Option<(Arc<Slot>, u64)> {
        let slot = watched.slot.upgrade()?;
        let deadline = slot.deadline.load(Ordering::SeqCst);
        let call = deadline & !FIRED;
        if call == 0 || now < self.epoch + Duration::from_nanos(call) {
            return None;
        }
        let again = match watched.last {
            Some((last, at)) if last == call => {
                now.duration_since(at) >= REFIRE || slot.wanted.as_ref().is_some_and(|w| w.load(Ordering::SeqCst))
            }
            _ => true,
        };
        again.then_some((slot, deadline))
    }

    fn fire_due(&self) {
        let mut slots = self.slots.lock().expect("watchdog lock");
        let now = Instant::now();
        for watched in slots.iter_mut() {
            let Some((slot, deadline)) = self.due(watched, now) else { continue };
            if let Some(wanted) = &slot.wanted {
                wanted.store(true, Ordering::SeqCst);
            }
            // Mark the call as interrupted, unless it has ended meanwhile.
            if slot.deadline.compare_exchange(deadline, deadline | FIRED, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                if let Some(wanted) = &slot.wanted {
                    wanted.store(false, Ordering::SeqCst);
                }
                continue;
            }
            (slot.interrupt)();
            watched.last = Some((deadline & !FIRED, now));
        }
    }
}

/// How a watched call that gave `result` ended, given whether it was
/// `interrupted`: as it was when it kept its deadline; past its deadline
/// `after`, a [`NodeFailure::TimeoutInterrupted`] with the node's error
/// (whose traceback shows where it was interrupted), even if the code caught
/// the exception and returned. `soft` is the soft deadline an interruption
/// the node's own runtime raised stands for.
pub(crate) fn outcome<T>(
    result: Result<T, NodeError>,
    interrupted: bool,
    after: Duration,
    soft: Duration,
) -> Result<T, NodeFailure> {
    match (result, interrupted) {
        (Ok(v), false) => Ok(v),
        (Err(e), false) => Err(NodeFailure::from_guest(e, soft)),
        (Err(e), true) => Err(NodeFailure::timeout_interrupted(after, e)),
        (Ok(_), true) => Err(NodeFailure::timeout_interrupted(
            after,
            NodeError::new(
                ErrorKind::Interrupted,
                "the call ran past its deadline: it caught the DeadlineExceeded raised there and returned late",
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    fn counter() -> (Arc<AtomicU32>, Interrupt) {
        let n = Arc::new(AtomicU32::new(0));
        let count = Arc::clone(&n);
        (
            n,
            Box::new(move || {
                count.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    #[test]
    fn interrupts_only_calls_past_their_deadline_until_they_end() {
        let dog = Watchdog::start("test-watchdog", |fire| fire());
        let (slow_count, interrupt) = counter();
        let slow = dog.register(interrupt, None);
        let (fast_count, interrupt) = counter();
        let fast = dog.register(interrupt, None);
        let (idle_count, interrupt) = counter();
        let _idle = dog.register(interrupt, None);
        slow.start(Duration::from_millis(20));
        fast.start(Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20) + REFIRE * 3);
        assert!(!fast.finish());
        assert!(slow.finish());
        let fired = slow_count.load(Ordering::SeqCst);
        // Interrupted at the deadline and again while the call went on.
        assert!(fired >= 2, "{fired}");
        std::thread::sleep(REFIRE * 2);
        assert_eq!(slow_count.load(Ordering::SeqCst), fired, "interrupted after the call ended");
        assert_eq!(fast_count.load(Ordering::SeqCst), 0);
        assert_eq!(idle_count.load(Ordering::SeqCst), 0);
        // The next call starts afresh.
        slow.start(Duration::from_secs(60));
        assert!(!slow.finish());
    }

    #[test]
    fn an_interrupt_not_taken_is_sent_again_at_every_tick() {
        let dog = Watchdog::start("test-watchdog", |fire| fire());
        let (count, interrupt) = counter();
        let wanted = Arc::new(AtomicBool::new(false));
        let slot = dog.register(interrupt, Some(Arc::clone(&wanted)));
        slot.start(Duration::ZERO);
        // Nobody takes it: well over the one interrupt REFIRE would allow.
        std::thread::sleep(REFIRE * 4 / 5);
        assert!(count.load(Ordering::SeqCst) >= 2, "{}", count.load(Ordering::SeqCst));
        assert!(wanted.load(Ordering::SeqCst));
        assert!(slot.finish());
        assert!(!wanted.load(Ordering::SeqCst), "a late interrupt would still be wanted");
    }
}
