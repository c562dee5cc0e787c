//! [`NodeError`]: how a node reports its own failure (the WIT `node-error`).

use std::fmt;

/// Why a node failed; mirrors the WIT `error-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The parameters given at creation were missing or wrong.
    InvalidParams,
    /// The input item was not what the node accepts.
    InvalidInput,
    /// A value could not cross the boundary.
    UnsupportedValue,
    /// The node's code raised an exception or returned an error.
    Raised,
    /// No node type of that name.
    UnknownType,
    /// Module source could not be loaded.
    Load,
    /// The component does not support the request.
    Unsupported,
    /// A bug in the runtime rather than in the node.
    Internal,
    /// The call went past a limit the host set (outputs per input).
    LimitExceeded,
    /// The host interrupted the call at its soft deadline.
    Interrupted,
}

impl ErrorKind {
    /// The kind's name as written in WIT (`invalid-params`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidParams => "invalid-params",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::UnsupportedValue => "unsupported-value",
            ErrorKind::Raised => "raised",
            ErrorKind::UnknownType => "unknown-type",
            ErrorKind::Load => "load",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "internal",
            ErrorKind::LimitExceeded => "limit-exceeded",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node's failure: a kind, a one-line message and, for Python nodes, the
/// exception type and full traceback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeError {
    /// What class of failure this is.
    pub kind: ErrorKind,
    /// One line saying what went wrong.
    pub message: String,
    /// The Python exception's type name, for Python nodes.
    pub exception_type: Option<String>,
    /// The full Python traceback, for Python nodes.
    pub traceback: Option<String>,
}

impl NodeError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        NodeError { kind, message: message.into(), exception_type: None, traceback: None }
    }

    /// Bad or missing creation parameters.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParams, message)
    }

    /// An input the node does not accept.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// A value that cannot cross the boundary.
    pub fn unsupported_value(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedValue, message)
    }

    /// The node's own failure (what a Rust node returns for, say, division by zero).
    pub fn raised(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Raised, message)
    }

    /// An input of the wrong kind: "expected X, got Y".
    pub fn expected(what: &str, got: &crate::Value) -> Self {
        Self::invalid_input(format!("expected {what}, got {} {got}", got.type_name()))
    }
}

/// A traceback cut down to its first and last `keep` lines when it is longer
/// (runaway recursion gives thousands of identical frames), with a line
/// saying how many were left out.
pub fn shorten_traceback(traceback: &str, keep: usize) -> String {
    let lines: Vec<&str> = traceback.lines().collect();
    if lines.len() <= 2 * keep + 1 {
        return traceback.to_owned();
    }
    let mut out = lines[..keep].join("\n");
    out.push_str(&format!("\n  ... {} lines left out ...\n", lines.len() - 2 * keep));
    out.push_str(&lines[lines.len() - keep..].join("\n"));
    out.push('\n');
    out
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for NodeError {}
