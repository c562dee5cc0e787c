//! The host's errors: [`Error`] at the library surface, with [`NodeFailure`]
//! saying how one node call failed. Each failure kind is its own variant and
//! keeps its cause as a [`source`](std::error::Error::source), so callers
//! match on kinds and walk causes rather than read message text.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use nodehost_sdk::{ErrorKind as GuestErrorKind, NodeError as GuestError};

/// How one call into a node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeFailure {
    /// The node's own error: a Python exception (with traceback) or a Rust
    /// node's `NodeError`. The node is still usable.
    #[error("{}", describe_guest(.0))]
    Guest(GuestError),
    /// The call passed its soft deadline and the node's code was
    /// interrupted where it ran (a Python node got `DeadlineExceeded`, whose
    /// traceback shows where it was). The node is still usable.
    #[error("interrupted after {after:?} (soft deadline): {}", describe_guest(.error))]
    Interrupted {
        /// The soft deadline that passed.
        after: Duration,
        /// The node's error, with the traceback of where it was stopped.
        error: GuestError,
    },
    /// The call ran past its hard CPU deadline and was stopped; the instance
    /// is lost.
    #[error(
        "timed out: ran longer than {0:?}, the limit its policy sets (`timeout` for a call, `init_timeout` while it \
         starts; a manifest raises them in the node's `policy = {{ ... }}`, and `interruptible = true` shows where a \
         Python node was)"
    )]
    Timeout(Duration),
    /// The call ran past its hard deadline on an un-sandboxed Python
    /// runtime (`cpython`, `native-rustpython`), which has no sandbox to
    /// stop: the host raised `nodehost.DeadlineExceeded` in the running
    /// Python code, whose traceback shows where it was. The call's outputs
    /// are dropped even if the code caught the exception and returned. The
    /// node keeps its state and is still usable.
    #[error("timed out: ran longer than {after:?} and was interrupted: {}", describe_guest(.error))]
    TimeoutInterrupted {
        /// The deadline that passed (the policy's `timeout`, or
        /// `init_timeout` while the node was being created).
        after: Duration,
        /// The node's error, with the traceback of where it was stopped.
        error: GuestError,
    },
    /// The call was cancelled from outside (a cancel handle); the instance
    /// is lost.
    #[error("cancelled by the host")]
    Cancelled,
    /// The call went past a limit of its policy. The node is still usable,
    /// except after [`Limit::Tmp`].
    #[error("{0}")]
    LimitExceeded(Limit),
    /// The node sent back something that is not a valid value (a malformed
    /// table, an inconsistent buffer). The node is still usable.
    #[error("invalid value at the boundary: {0}")]
    InvalidValue(String),
    /// The node tried to grow its memory past its limit.
    #[error("out of memory: tried to grow linear memory past the limit of {limit} bytes")]
    OutOfMemory {
        /// The policy's memory limit in bytes.
        limit: u64,
    },
    /// The call used up its fuel budget.
    #[error("out of fuel: used more than {0} units")]
    OutOfFuel(u64),
    /// The guest overflowed its wasm stack.
    #[error("wasm stack overflow")]
    StackOverflow,
    /// Any other trap (`unreachable`, a Rust panic in the guest, an
    /// out-of-bounds access...), with the wasm backtrace when there is one.
    #[error("trapped: {message}{}", .backtrace.as_deref().map(|b| format!("\n{b}")).unwrap_or_default())]
    Trap {
        /// What the trap says, with an explanation where one helps.
        message: String,
        /// The wasm backtrace, when there is one.
        backtrace: Option<String>,
    },
    /// The node called the host out of turn or left something undone the
    /// node interface requires (answered no input of a `process-many`
    /// call). The node is still usable.
    #[error("the node broke the node interface: {0}")]
    BrokeInterface(String),
    /// The node's instance was lost to an earlier trap and cannot be called.
    #[error("the node's instance was lost to an earlier failure and cannot be called")]
    Poisoned,
    /// The component's exports do not have the types of this host's node
    /// interface (it was built or baked for another version of
    /// `wit/node.wit`).
    #[error(
        "the component was built for another version of the node interface (wit/node.wit); rebuild or re-bake it: {}",
        chain(&**.0)
    )]
    InterfaceMismatch(#[source] wasmtime::Error),
    /// Setting up the node's sandbox failed on the host side (not the
    /// node's fault).
    #[error("{}", chain(.0))]
    Setup(#[from] SandboxSetup),
    /// Code running the node on the host panicked (a native node, or a bug
    /// in the host). The node is lost.
    #[error("panicked: {0}")]
    Panicked(String),
}

/// A limit of the node's policy that a call went past.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    /// Too many outputs for one input.
    #[error("too many outputs: the node gave more than {limit} outputs for one input")]
    Outputs {
        /// The policy's `max_outputs`.
        limit: u32,
    },
    /// One output was larger than the policy allows.
    #[error("output too large: an output ({type_name}) of more than {limit} bytes")]
    OutputBytes {
        /// The policy's `max_output_bytes`.
        limit: u64,
        /// The type of the value that was too large.
        type_name: &'static str,
    },
    /// A limit the node's own runtime enforced (outputs of a generator), as
    /// it describes it.
    #[error("limit exceeded: {0}")]
    Guest(String),
    /// A write or new file would have taken the node's `/tmp` past the
    /// policy's `tmp` bound. The call trapped, so (unlike the other limits)
    /// the instance is lost, and its `/tmp` with it.
    #[error("/tmp full: the node's /tmp would have held more than its limit of {limit} bytes")]
    Tmp {
        /// The policy's `tmp`.
        limit: u64,
    },
}

/// How setting up a node's sandbox failed on the host side.
#[derive(Debug, thiserror::Error)]
pub enum SandboxSetup {
    /// A directory the policy grants could not be opened.
    #[error("granting directory {} as {guest}", host.display())]
    Grant {
        /// The host directory.
        host: PathBuf,
        /// Where the node would see it.
        guest: String,
        /// Why it could not be granted.
        #[source]
        source: wasmtime::Error,
    },
    /// The node's `/tmp` could not be made or granted.
    #[error("making the node's /tmp")]
    Scratch {
        /// Why.
        #[source]
        source: wasmtime::Error,
    },
    /// The store refused the fuel budget.
    #[error("setting the fuel budget")]
    Fuel {
        /// wasmtime's error.
        #[source]
        source: wasmtime::Error,
    },
}

fn describe_guest(e: &GuestError) -> String {
    match &e.traceback {
        Some(tb) if !tb.is_empty() => format!("{} ({})\n{}", e.message, e.kind, tb.trim_end()),
        _ => format!("{} ({})", e.message, e.kind),
    }
}

impl NodeFailure {
    /// The node's own error (with its traceback), when there is one.
    pub fn guest(&self) -> Option<&GuestError> {
        match self {
            NodeFailure::Guest(e)
            | NodeFailure::Interrupted { error: e, .. }
            | NodeFailure::TimeoutInterrupted { error: e, .. } => Some(e),
            _ => None,
        }
    }

    /// True when the node's instance is lost and must be created afresh:
    /// traps (timeout, out of memory or fuel, `/tmp` full, stack overflow,
    /// any other trap) and panics. After the node's own error, an
    /// interruption at the soft deadline or (un-sandboxed) at the hard one,
    /// or another limit, the node keeps its state and can go on.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            NodeFailure::Guest(_)
                | NodeFailure::Interrupted { .. }
                | NodeFailure::TimeoutInterrupted { .. }
                | NodeFailure::InvalidValue(_)
                | NodeFailure::BrokeInterface(_)
        ) && !matches!(self, NodeFailure::LimitExceeded(limit) if !matches!(limit, Limit::Tmp { .. }))
    }

    /// True when the call ran past its hard deadline: stopped
    /// ([`NodeFailure::Timeout`]) or interrupted
    /// ([`NodeFailure::TimeoutInterrupted`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self, NodeFailure::Timeout(_) | NodeFailure::TimeoutInterrupted { .. })
    }

    /// A node's own error as the failure kind it is: an interruption at the
    /// soft deadline `soft`, a limit, or the node's error. Its message and
    /// traceback are cut to [`MAX_GUEST_TEXT`] bytes each.
    pub fn from_guest(e: GuestError, soft: Duration) -> Self {
        let e = bound_guest_text(e);
        match e.kind {
            GuestErrorKind::Interrupted => NodeFailure::Interrupted { after: soft, error: e },
            GuestErrorKind::LimitExceeded => NodeFailure::LimitExceeded(Limit::Guest(e.message)),
            _ => NodeFailure::Guest(e),
        }
    }
}

impl NodeFailure {
    /// A [`NodeFailure::TimeoutInterrupted`] past the deadline `after`, with
    /// the node's error cut to [`MAX_GUEST_TEXT`] bytes as every guest error is.
    #[cfg_attr(not(any(feature = "cpython", feature = "native-rustpython")), allow(dead_code))]
    pub(crate) fn timeout_interrupted(after: Duration, e: GuestError) -> Self {
        NodeFailure::TimeoutInterrupted { after, error: bound_guest_text(e) }
    }
}

impl From<GuestError> for NodeFailure {
    fn from(e: GuestError) -> Self {
        NodeFailure::Guest(bound_guest_text(e))
    }
}

/// Runtimes with why each was refused: "wasm: why; wasm-cpython: why".
pub(crate) fn describe_refusals(refused: &[(&'static str, String)]) -> String {
    refused.iter().map(|(r, why)| format!("{r}: {why}")).collect::<Vec<_>>().join("; ")
}

/// Most bytes of a node's error message, and of its traceback, the host
/// keeps: a node cannot make the host hold megabytes per failure.
pub const MAX_GUEST_TEXT: usize = 64 << 10;

/// `e` with its message and traceback cut to [`MAX_GUEST_TEXT`] bytes each,
/// saying so where they were cut.
fn bound_guest_text(mut e: GuestError) -> GuestError {
    fn cut(text: &mut String) {
        if text.len() > MAX_GUEST_TEXT {
            let total = text.len();
            let mut end = MAX_GUEST_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str(&format!(" [... cut: {total} bytes in all]"));
        }
    }
    cut(&mut e.message);
    if let Some(tb) = &mut e.traceback {
        cut(tb);
    }
    e
}

/// Which call of a node failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Creating the node (loading its module, constructing the instance).
    Create,
    /// Processing the input item with this 1-based number.
    Item(u64),
    /// Flushing at end of stream.
    Flush,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Create => f.write_str("while creating it"),
            Stage::Item(n) => write!(f, "on item {n}"),
            Stage::Flush => f.write_str("while flushing at end of stream"),
        }
    }
}

/// Everything the host library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A node failed; says which node, at which item, and how.
    #[error("node '{node}' failed {stage}: {failure}")]
    Node {
        /// The node's id.
        node: String,
        /// Which call failed.
        stage: Stage,
        /// How it failed.
        failure: NodeFailure,
    },
    /// The wasmtime engine or the linker of node imports could not be set
    /// up with this configuration.
    #[error("setting up the wasmtime engine")]
    Engine(#[source] wasmtime::Error),
    /// A component file could not be read.
    #[error("reading component {}", path.display())]
    ComponentFile {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly component wasmtime can compile (not
    /// wasm, a core module, a truncated file).
    #[error("cannot compile {component}: not a valid WebAssembly component")]
    Compile {
        /// The component's name or path.
        component: String,
        /// wasmtime's error.
        #[source]
        source: wasmtime::Error,
    },
    /// The component is larger than the engine compiles
    /// ([`EngineConfig::max_component_bytes`](crate::EngineConfig::max_component_bytes)):
    /// refused before it was compiled.
    #[error("cannot compile {component}: it is {size} bytes, above the limit of {limit} bytes")]
    ComponentTooLarge {
        /// The component's name or path.
        component: String,
        /// Its size in bytes.
        size: u64,
        /// The engine's limit in bytes.
        limit: u64,
    },
    /// The component compiled but does not fit the node world: it lacks the
    /// exports, or imports something a node is not given.
    #[error("cannot link {component}: it does not implement the nodehost:node/node-component world")]
    Link {
        /// The component's name or path.
        component: String,
        /// wasmtime's error.
        #[source]
        source: wasmtime::Error,
    },
    /// Compiled code from the cache could not be loaded.
    #[error("loading the compiled code of {component}")]
    Deserialize {
        /// The component's name or path.
        component: String,
        /// wasmtime's error.
        #[source]
        source: wasmtime::Error,
    },
    /// Making a pre-initialized Python snapshot failed at `step`.
    #[error("making a Python snapshot: {step}")]
    Snapshot {
        /// What was being done.
        step: &'static str,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The pipeline manifest is invalid; the message gives line and column.
    #[error("{path}: {message}", path = .path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// A node's policy is invalid.
    #[error("node '{node}': invalid policy: {message}")]
    Policy {
        /// The node's id.
        node: String,
        /// What is wrong with it.
        message: String,
    },
    /// A Python node's modules or locked dependencies could not be read
    /// into its bundle (see [`crate::package`]).
    #[error("Python node {}", path.display())]
    Package {
        /// The node's file or directory.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: crate::package::PackageError,
    },
    /// A node names a runtime that cannot run its kind of source.
    #[error("node '{node}': the '{runtime}' runtime cannot run {source_kind} (it runs on: {accepted})")]
    RuntimeMismatch {
        /// The node's id.
        node: String,
        /// The runtime asked for.
        runtime: &'static str,
        /// What the node is made of ("a Python node", ...).
        source_kind: &'static str,
        /// The runtimes that can run it.
        accepted: String,
    },
    /// A node's virtual environment cannot serve it: it names one on a
    /// runtime other than `cpython`, or the environment was made for
    /// another Python than the one the host embeds.
    #[error("node '{node}': virtual environment {}: {message}", path.display())]
    Venv {
        /// The node's id.
        node: String,
        /// The environment's directory.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// No runtime can run a `runtime = "auto"` node: each runtime's reason.
    #[error("node '{node}': no runtime can run it ({})", describe_refusals(.refused))]
    NoRuntime {
        /// The node's id.
        node: String,
        /// Each runtime tried (its name), and why it was refused.
        refused: Vec<(&'static str, String)>,
    },
    /// A runtime is not available here: not compiled into this build, or
    /// its component is missing.
    #[error("runtime '{runtime}' is not available: {reason}")]
    RuntimeUnavailable {
        /// The runtime's name.
        runtime: &'static str,
        /// Why, and what to do about it.
        reason: String,
    },
    /// Reading inputs or writing outputs failed.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An input could not be read as a value (bad JSON line, bad WAV file...).
    #[error("input: {0}")]
    Input(String),
    /// A WAV input could not be read: not a WAV file, an encoding this host
    /// does not read, a file cut short.
    #[error("input: WAV file {}", path.display())]
    Wav {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: crate::value::wav::WavError,
    },
    /// A line of JSON-lines input is not JSON, or not a value.
    #[error("input: {input} line {line}")]
    JsonLine {
        /// The input: a file's path, or `stdin`.
        input: String,
        /// The line's number, from 1.
        line: u64,
        /// What is wrong with it.
        #[source]
        source: crate::value::json::FromJsonError,
    },
}

impl Error {
    /// The node failure inside, if this is one.
    pub fn node_failure(&self) -> Option<&NodeFailure> {
        match self {
            Error::Node { failure, .. } => Some(failure),
            _ => None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

/// An error and its chain of causes on one line, `outer: cause: cause`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_text_is_bounded_and_says_it_was_cut() {
        let huge = GuestError::new(GuestErrorKind::Raised, "é".repeat(100_000));
        let NodeFailure::Guest(e) = NodeFailure::from(huge) else { panic!() };
        assert!(e.message.len() < MAX_GUEST_TEXT + 64);
        assert!(e.message.ends_with("[... cut: 200000 bytes in all]"), "{}", &e.message[e.message.len() - 40..]);
        let small = GuestError::new(GuestErrorKind::Raised, "ValueError: x");
        assert_eq!(NodeFailure::from(small).guest().unwrap().message, "ValueError: x");
    }
}
