//! [`Node`]: the one trait every runtime implements, and the threads nodes
//! run on. This file imports nothing from the rest of the crate: it is the
//! bottom layer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;

use crate::error::NodeFailure;

/// What one input of a batch got (see [`Node::process_many`]).
#[derive(Debug)]
pub struct ItemAnswer {
    /// How many outputs it gave, pushed in order onto the batch's `out`
    /// after those of the inputs before it.
    pub outputs: usize,
    /// Whether it failed, and how; a failed input leaves no outputs. (Boxed:
    /// a batch holds an answer per input, and failures are rare.)
    pub result: Result<(), Box<NodeFailure>>,
    /// How long the node took on it.
    pub elapsed: Duration,
}

impl ItemAnswer {
    /// An input that failed with `failure` before the node could answer it.
    pub fn failed(failure: NodeFailure) -> Self {
        ItemAnswer { outputs: 0, result: Err(Box::new(failure)), elapsed: Duration::ZERO }
    }

    /// How the input failed, if it did.
    pub fn failure(&self) -> Option<&NodeFailure> {
        self.result.as_ref().err().map(|f| &**f)
    }

    /// An input answered with `result`, having pushed `outputs` outputs in
    /// `elapsed`.
    pub fn new(outputs: usize, result: Result<(), NodeFailure>, elapsed: Duration) -> Self {
        ItemAnswer { outputs, result: result.map_err(Box::new), elapsed }
    }
}

/// A live node, whatever runs it. Outputs are pushed onto `out`.
///
/// Nodes are created and called on one thread (native RustPython is not
/// `Send`); the pipeline gives each node its own thread with
/// [`NODE_THREAD_STACK`] bytes of stack, which sandboxed calls need.
pub trait Node {
    /// Take one input and push zero or more outputs.
    ///
    /// # Errors
    /// How the call failed; the outputs pushed by a failed call are removed.
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure>;
    /// End of stream: push whatever is left.
    ///
    /// # Errors
    /// How the call failed.
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure>;

    /// Take inputs from the front of `inputs`, in order, each as
    /// [`Node::process`] would, and answer each on `answers` (its outputs
    /// onto `out`). Stops after an input that failed, when `inputs` is
    /// empty, or once `budget` has passed since the first input; takes at
    /// least one input when there is one. Inputs not taken stay in
    /// `inputs`, for the next call or a fresh node.
    ///
    /// The sandbox answers a whole batch in one crossing of its boundary;
    /// other runtimes call `process` in turn.
    fn process_many(&mut self, inputs: &mut VecDeque<Value>, budget: Duration, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        answer_each(inputs, budget, out, answers, |input, out| self.process(input, out));
    }

    /// A handle another thread can use to stop this node's running call,
    /// for runtimes that can be stopped from outside (the sandboxed ones).
    fn cancel_handle(&self) -> Option<CancelHandle> {
        None
    }
}

/// [`Node::process_many`] one input at a time through `process`: each
/// input's answer and time, until the inputs run out, one fails, or
/// `budget` has passed.
pub(crate) fn answer_each(
    inputs: &mut VecDeque<Value>,
    budget: Duration,
    out: &mut Vec<Value>,
    answers: &mut Vec<ItemAnswer>,
    mut process: impl FnMut(Value, &mut Vec<Value>) -> Result<(), NodeFailure>,
) {
    // One clock read per input: each input's end is the next one's start.
    let clock = ItemClock::get();
    let budget = u64::try_from(budget.as_nanos()).unwrap_or(u64::MAX);
    let (mut t, mut spent) = (clock.read(), 0u64);
    while let Some(input) = inputs.pop_front() {
        let before = out.len();
        let result = process(input, out);
        let now = clock.read();
        let failed = result.is_err();
        let took = clock.nanos_between(t, now);
        answers.push(ItemAnswer::new(out.len() - before, result, Duration::from_nanos(took)));
        (t, spent) = (now, spent.saturating_add(took));
        if failed || spent >= budget {
            return;
        }
    }
}

/// The clock items are timed by. Where the CPU's time-stamp counter is
/// invariant, a read costs a third of [`Instant::now`] (10 against 27 ns
/// here), which is most of a cheap native node's own time per item. The
/// counter must first be calibrated against the OS clock, which takes about
/// a millisecond but up to 200 ms on a loaded machine; that runs on a
/// thread of its own, started by the first use, and until it is done items
/// are timed by [`Instant`].
#[derive(Clone, Copy)]
pub(crate) enum ItemClock {
    /// The calibrated counter (or the OS clock, where the counter is not
    /// fit to use), in its raw units.
    Counter(&'static quanta::Clock),
    /// Nanoseconds since an instant.
    Os(Instant),
}

static COUNTER: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();

impl ItemClock {
    /// The best clock ready now.
    pub(crate) fn get() -> Self {
        if let Some(clock) = COUNTER.get() {
            return ItemClock::Counter(clock);
        }
        static CALIBRATION: std::sync::Once = std::sync::Once::new();
        CALIBRATION.call_once(|| {
            let spawned = std::thread::Builder::new().name("nodehost-clock".into()).spawn(|| {
                let started = Instant::now();
                COUNTER.get_or_init(quanta::Clock::new);
                tracing::debug!("calibrated the item clock in {:?}", started.elapsed());
            });
            if spawned.is_err() {
                tracing::debug!("could not start the clock's calibration: items are timed by the OS clock");
            }
        });
        ItemClock::Os(Instant::now())
    }

    /// A reading, to compare with [`nanos_between`](Self::nanos_between).
    #[inline]
    pub(crate) fn read(self) -> u64 {
        match self {
            ItemClock::Counter(clock) => clock.raw(),
            ItemClock::Os(base) => u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// Nanoseconds from reading `start` to reading `end`.
    #[inline]
    pub(crate) fn nanos_between(self, start: u64, end: u64) -> u64 {
        match self {
            ItemClock::Counter(clock) => clock.delta_as_nanos(start, end),
            ItemClock::Os(_) => end.saturating_sub(start),
        }
    }
}

/// Stops a node's running call from another thread, within 100 ms (the
/// sandbox checks every 20 epoch ticks): the call fails with [`NodeFailure::Cancelled`] and the
/// node's instance is lost (as after a timeout). A handle stays valid for
/// the node's life; cancelling when no call runs stops the next one at
/// once, so call [`CancelHandle::reset`] to take a cancellation back.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl CancelHandle {
    /// Stop the node's running (or next) call.
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Take back a cancellation that has not stopped a call yet.
    pub fn reset(&self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a cancellation is pending or has stopped a call.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Stack size of the threads that run nodes: above the engine's largest
/// `max_wasm_stack`, with room for the host's own frames.
pub const NODE_THREAD_STACK: usize = 32 << 20;

/// Run `f` on a fresh thread with [`NODE_THREAD_STACK`] bytes of stack and
/// wait for it: the way to call sandboxed nodes from a thread whose own
/// stack is small (test harness threads have 2 MiB).
///
/// # Panics
/// When the thread cannot be started, or `f` panics (the panic is resumed
/// on the calling thread).
pub fn on_node_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("nodehost-node".into())
            .stack_size(NODE_THREAD_STACK)
            .spawn_scoped(scope, f)
            .expect("spawn a node thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Run `f`, turning a panic into [`NodeFailure::Panicked`] with its message:
/// a node that panics fails alone instead of taking its thread down.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> Result<T, NodeFailure>) -> Result<T, NodeFailure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with no message".into());
        Err(NodeFailure::Panicked(message))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both kinds of item clock measure real time in nanoseconds.
    #[test]
    fn the_item_clock_measures_nanoseconds_before_and_after_calibration() {
        let measure = |clock: ItemClock| {
            let start = clock.read();
            std::thread::sleep(Duration::from_millis(20));
            clock.nanos_between(start, clock.read())
        };
        let os = ItemClock::Os(Instant::now());
        let took = measure(os);
        assert!((20_000_000..2_000_000_000).contains(&took), "{took} ns");
        // Calibrated here, whether or not the background thread has run.
        let counter = ItemClock::Counter(COUNTER.get_or_init(quanta::Clock::new));
        let took = measure(counter);
        assert!((15_000_000..2_000_000_000).contains(&took), "{took} ns");
        assert_eq!(counter.nanos_between(10, 5), 0, "a reading before the start is no time");
    }

    /// A batch stops taking inputs once its budget is spent, and stops at
    /// the first failure; each answer counts its outputs.
    #[test]
    fn answer_each_keeps_to_the_budget_and_stops_at_a_failure() {
        let mut inputs: VecDeque<Value> = (0..10).map(Value::Int).collect();
        let (mut out, mut answers) = (Vec::new(), Vec::new());
        answer_each(&mut inputs, Duration::from_millis(15), &mut out, &mut answers, |v, out| {
            std::thread::sleep(Duration::from_millis(10));
            out.push(v);
            Ok(())
        });
        assert_eq!(answers.len(), 2, "the second input's end is past the 15 ms budget");
        assert_eq!(inputs.len(), 8);
        assert!(answers.iter().all(|a| a.outputs == 1 && a.elapsed >= Duration::from_millis(9)));

        let (mut out, mut answers) = (Vec::new(), Vec::new());
        answer_each(&mut inputs, Duration::from_secs(60), &mut out, &mut answers, |v, out| {
            if v == Value::Int(4) {
                return Err(NodeFailure::Poisoned);
            }
            out.push(v);
            Ok(())
        });
        assert_eq!(answers.len(), 3);
        assert!(answers[2].failure().is_some());
        assert_eq!(out, vec![Value::Int(2), Value::Int(3)]);
        assert_eq!(inputs.len(), 5);
    }
}
