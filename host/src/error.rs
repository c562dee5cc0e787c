//! The host's errors: [`Error`] at the library surface, with
//! [`NodeFailure`] saying how one node call failed. Each failure kind is its
//! own variant, so callers match on kinds rather than on message text.

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
    Interrupted { after: Duration, error: GuestError },
    /// The call ran past its hard CPU deadline and was stopped; the instance
    /// is lost.
    #[error("timed out: ran longer than {0:?}")]
    Timeout(Duration),
    /// The call went past a limit of its policy (outputs per input, size of
    /// an output). The node is still usable.
    #[error("output too large: {0}")]
    LimitExceeded(String),
    /// The node sent back something that is not a valid value (a malformed
    /// table, an inconsistent buffer). The node is still usable.
    #[error("invalid value at the boundary: {0}")]
    InvalidValue(String),
    /// The node tried to grow its memory past its limit.
    #[error("out of memory: tried to grow linear memory past the limit of {limit} bytes")]
    OutOfMemory { limit: u64 },
    /// The call used up its fuel budget.
    #[error("out of fuel: used more than {0} units")]
    OutOfFuel(u64),
    /// The guest overflowed its wasm stack.
    #[error("wasm stack overflow")]
    StackOverflow,
    /// Any other trap (`unreachable`, a Rust panic in the guest, an
    /// out-of-bounds access...), with the wasm backtrace when there is one.
    #[error("trapped: {message}{}", .backtrace.as_deref().map(|b| format!("\n{b}")).unwrap_or_default())]
    Trap { message: String, backtrace: Option<String> },
    /// The node's instance was lost to an earlier trap and cannot be called.
    #[error("the node's instance was lost to an earlier failure and cannot be called")]
    Poisoned,
    /// A host-side failure talking to the node (not the node's fault).
    #[error("host error: {0}")]
    Host(String),
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
            NodeFailure::Guest(e) | NodeFailure::Interrupted { error: e, .. } => Some(e),
            _ => None,
        }
    }

    /// True when the node's instance is lost and must be created afresh:
    /// traps (timeout, out of memory or fuel, stack overflow, any other
    /// trap). After the node's own error, an interruption at the soft
    /// deadline or a limit, the node keeps its state and can go on.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            NodeFailure::Guest(_)
                | NodeFailure::Interrupted { .. }
                | NodeFailure::LimitExceeded(_)
                | NodeFailure::InvalidValue(_)
        )
    }

    /// A node's own error as the failure kind it is: an interruption at the
    /// soft deadline `soft`, a limit, or the node's error.
    pub fn from_guest(e: GuestError, soft: Duration) -> Self {
        match e.kind {
            GuestErrorKind::Interrupted => NodeFailure::Interrupted { after: soft, error: e },
            GuestErrorKind::LimitExceeded => NodeFailure::LimitExceeded(e.message),
            _ => NodeFailure::Guest(e),
        }
    }
}

impl From<GuestError> for NodeFailure {
    fn from(e: GuestError) -> Self {
        NodeFailure::Guest(e)
    }
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
    Node { node: String, stage: Stage, failure: NodeFailure },
    /// A component could not be loaded: not a component, the wrong world, a
    /// truncated file, or code compiled for another engine.
    #[error("cannot load component {what}: {message}")]
    Load { what: String, message: String },
    /// The pipeline manifest is invalid; the message gives line and column.
    #[error("{path}: {message}", path = .path.display())]
    Manifest { path: PathBuf, message: String },
    /// A runtime the manifest asks for is not compiled into this build.
    #[error("runtime '{0}' is not available in this build of nodehost (enable its cargo feature)")]
    RuntimeUnavailable(&'static str),
    /// Reading inputs or writing outputs failed.
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// An input could not be read as a value (bad JSON line, bad WAV file...).
    #[error("input: {0}")]
    Input(String),
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
