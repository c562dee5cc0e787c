//! [`RustPythonNode`]: a Python node on RustPython linked into the host, the
//! `native-rustpython` baseline. The same interpreter and node code as the
//! Python guest component, without the sandbox; each node has its own
//! interpreter.
//!
//! Every call has a wall-clock deadline (`timeout`, `init_timeout` while
//! the node is created): past it the [`Watchdog`] makes the running code
//! raise `nodehost.DeadlineExceeded` through the interpreter's signal
//! channel, which RustPython checks at every instruction anyway, so the
//! deadline costs a call two atomic stores. Code stuck in one native call
//! (a sleep, a long regular-expression match) sees it when the call
//! returns.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use nodehost_python::{PythonNode, PythonRuntime};
use nodehost_sdk::{DynNode, NodeError, Value};

use crate::error::NodeFailure;
use crate::node::Node;
use crate::policy::SandboxPolicy;
use crate::runtime::watchdog::{self, Slot, Watchdog};

/// The watchdog of native RustPython calls (one thread per process).
fn watchdog() -> &'static Watchdog {
    static DOG: OnceLock<&'static Watchdog> = OnceLock::new();
    DOG.get_or_init(|| Watchdog::start("nodehost-rustpython-watchdog", |fire| fire()))
}

/// Run `f`, a call into the runtime `slot` interrupts, with a deadline of
/// `timeout`; `soft` is the soft deadline an interruption by the
/// interruptible hook stands for.
fn with_deadline<T>(
    slot: &Slot,
    timeout: Duration,
    soft: Duration,
    f: impl FnOnce() -> Result<T, NodeError>,
) -> Result<T, NodeFailure> {
    slot.start(timeout);
    let result = f();
    let interrupted = slot.finish();
    watchdog::outcome(result, interrupted, timeout, soft)
}

/// A Python node on native RustPython. Outside the sandbox memory is not
/// limited; the deadlines are kept by raising an exception in the running
/// code (see the module's documentation).
pub struct RustPythonNode {
    node: PythonNode,
    deadline: Arc<Slot>,
    soft: Option<Duration>,
    timeout: Duration,
}

impl RustPythonNode {
    /// Start an interpreter, load `file`'s `source` and create `class` with `params`.
    pub fn new(file: &Path, source: &str, class: &str, params: Value, policy: &SandboxPolicy) -> Result<Self, NodeFailure> {
        let runtime = PythonRuntime::new()?;
        runtime.set_max_outputs(policy.max_outputs as usize);
        runtime.set_interruptible(policy.is_interruptible())?;
        let interrupter = runtime.interrupter();
        let wanted = Arc::new(AtomicBool::new(false));
        let interrupt = {
            let wanted = Arc::clone(&wanted);
            Box::new(move || {
                interrupter.interrupt(watchdog::MESSAGE, Arc::clone(&wanted));
            })
        };
        let deadline = watchdog().register(interrupt, Some(wanted));
        let node = with_deadline(&deadline, policy.init_timeout, Duration::ZERO, || {
            runtime.load_module(&file.display().to_string(), source)?;
            runtime.create(class, params)
        })?;
        let soft = policy.is_interruptible().then(|| policy.soft_deadline());
        Ok(RustPythonNode { node, deadline, soft, timeout: policy.timeout })
    }

    fn call(
        &mut self,
        out: &mut Vec<Value>,
        f: impl FnOnce(&mut PythonNode, &mut Vec<Value>) -> Result<(), NodeError>,
    ) -> Result<(), NodeFailure> {
        let before = out.len();
        nodehost_sdk::interrupt::set_thread_deadline(self.soft.map(|s| Instant::now() + s));
        let node = &mut self.node;
        let result = with_deadline(&self.deadline, self.timeout, self.soft.unwrap_or_default(), || f(node, out));
        nodehost_sdk::interrupt::set_thread_deadline(None);
        if result.is_err() {
            out.truncate(before);
        }
        result
    }
}

impl Drop for RustPythonNode {
    /// The node's `cleanup()` runs when `node` is dropped, right after
    /// this, so it runs under the call deadline; the slot goes right after
    /// it (fields drop in order), which ends the watch.
    fn drop(&mut self) {
        self.deadline.start(self.timeout);
    }
}

impl Node for RustPythonNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(out, |node, out| node.process(input, out))
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(out, DynNode::flush)
    }
}
