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
    let mut t = Instant::now();
    let until = t + budget;
    while let Some(input) = inputs.pop_front() {
        let before = out.len();
        let result = process(input, out);
        let now = Instant::now();
        let failed = result.is_err();
        answers.push(ItemAnswer::new(out.len() - before, result, now.duration_since(t)));
        t = now;
        if failed || now >= until {
            return;
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
