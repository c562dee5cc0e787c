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

/// Inputs that took less than this each (on average over their group) are
/// timed in groups: a clock read is a tenth of a cheap native node's time
/// per input.
const CHEAP_INPUT_NANOS: u64 = 2_000;

/// The most inputs timed as one group: how far past its budget a batch of
/// inputs that were cheap and turn slow can run (by this many slow ones,
/// once).
const MAX_TIMED_GROUP: usize = 16;

/// [`Node::process_many`] one input at a time through `process`: each
/// input's answer and time, until the inputs run out, one fails, or
/// `budget` has passed.
///
/// Inputs are timed in groups that grow (1, 2, 4, ... up to
/// [`MAX_TIMED_GROUP`]) while they are cheap (under [`CHEAP_INPUT_NANOS`]
/// each) and fall back to one as soon as a group is not: each input of a
/// group is given the group's mean, as a sandboxed batch gives each of its
/// inputs the batch's. A group ends early at a failed input, so the
/// failure's own time is never shared with inputs after it.
pub(crate) fn answer_each(
    inputs: &mut VecDeque<Value>,
    budget: Duration,
    out: &mut Vec<Value>,
    answers: &mut Vec<ItemAnswer>,
    process: impl FnMut(Value, &mut Vec<Value>) -> Result<(), NodeFailure>,
) {
    answer_each_on(inputs, budget, out, answers, process, Instant::now);
}

/// [`answer_each`] with the time read from `clock`.
fn answer_each_on(
    inputs: &mut VecDeque<Value>,
    budget: Duration,
    out: &mut Vec<Value>,
    answers: &mut Vec<ItemAnswer>,
    mut process: impl FnMut(Value, &mut Vec<Value>) -> Result<(), NodeFailure>,
    mut clock: impl FnMut() -> Instant,
) {
    // One clock read per group: each group's end is the next one's start.
    let mut t = clock();
    let (mut spent, mut group) = (Duration::ZERO, 1usize);
    while !inputs.is_empty() {
        let first = answers.len();
        let mut failed = false;
        while answers.len() - first < group
            && let Some(input) = inputs.pop_front()
        {
            let before = out.len();
            let result = process(input, out);
            failed = result.is_err();
            answers.push(ItemAnswer::new(out.len() - before, result, Duration::ZERO));
            if failed {
                break;
            }
        }
        let now = clock();
        let took = now.saturating_duration_since(t);
        let timed = &mut answers[first..];
        let each = took / u32::try_from(timed.len()).unwrap_or(u32::MAX);
        for answer in timed.iter_mut() {
            answer.elapsed = each;
        }
        (t, spent) = (now, spent.saturating_add(took));
        if failed || spent >= budget {
            return;
        }
        group = if each.as_nanos() < u128::from(CHEAP_INPUT_NANOS) { (group * 2).min(MAX_TIMED_GROUP) } else { 1 };
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

    /// Cheap inputs share a clock read in groups that double up to
    /// [`MAX_TIMED_GROUP`]; a group that is not cheap sends the next ones
    /// back to one at a time; the times add up to the whole.
    #[test]
    fn cheap_inputs_are_timed_in_groups_and_slow_ones_alone() {
        use std::cell::Cell;
        // A clock that moves only when a node works: inputs 0 to 19 take
        // 100 ns each, later ones 1 ms.
        let base = Instant::now();
        let (now, reads) = (Cell::new(base), Cell::new(0));
        let mut inputs: VecDeque<Value> = (0..40).map(Value::Int).collect();
        let (mut out, mut answers) = (Vec::new(), Vec::new());
        let process = |v: Value, out: &mut Vec<Value>| {
            let cost = if matches!(v, Value::Int(n) if n >= 20) { Duration::from_millis(1) } else { Duration::from_nanos(100) };
            now.set(now.get() + cost);
            out.push(v);
            Ok(())
        };
        let clock = || {
            reads.set(reads.get() + 1);
            now.get()
        };
        answer_each_on(&mut inputs, Duration::from_secs(60), &mut out, &mut answers, process, clock);
        assert_eq!((answers.len(), out.len()), (40, 40));
        let sum: Duration = answers.iter().map(|a| a.elapsed).sum();
        assert!(now.get() - base - sum < Duration::from_nanos(40), "the times add up: {sum:?}");
        // Groups of 1, 2, 4 and 8 cheap inputs (0 to 14), then 16 (15 to
        // 30: five cheap, eleven slow), then the slow ones alone.
        assert!(answers[..15].iter().all(|a| a.elapsed == Duration::from_nanos(100)));
        let mean = (Duration::from_nanos(500) + Duration::from_millis(11)) / 16;
        assert!(answers[15..31].iter().all(|a| a.elapsed == mean), "{:?}", answers[15].elapsed);
        assert!(answers[31..].iter().all(|a| a.elapsed == Duration::from_millis(1)));
        assert_eq!(reads.get(), 1 + 5 + 9, "a read to start, one per group");
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
