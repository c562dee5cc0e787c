//! Logging to the host. Inside a component a record goes through the WIT
//! `host.log` import and the host emits it with `tracing`, tagged with the
//! node's id; in a native build it goes to the sink the embedding host set for
//! the current thread (or to stderr when none is set).

/// Severity of a log record; mirrors the WIT `log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    /// The level's name in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Emit one log record.
pub fn log(level: Level, target: &str, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::component::bindings::nodehost::node::host::{LogLevel, log};
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        log(level, target, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    native::dispatch(level, target, message);
}

/// Log at info level.
pub fn info(target: &str, message: &str) {
    log(Level::Info, target, message);
}

/// Log at warn level.
pub fn warn(target: &str, message: &str) {
    log(Level::Warn, target, message);
}

/// Log at debug level.
pub fn debug(target: &str, message: &str) {
    log(Level::Debug, target, message);
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{LogSink, set_thread_sink};

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::Level;
    use std::cell::RefCell;

    /// Where a native node's log records go.
    pub type LogSink = Box<dyn Fn(Level, &str, &str)>;

    thread_local! {
        static SINK: RefCell<Option<LogSink>> = const { RefCell::new(None) };
    }

    /// Route log records emitted on this thread to `sink` (or back to stderr
    /// with `None`). A host runs each native node on its own thread and sets
    /// a sink that tags records with the node's id.
    pub fn set_thread_sink(sink: Option<LogSink>) {
        SINK.with(|s| *s.borrow_mut() = sink);
    }

    pub(super) fn dispatch(level: Level, target: &str, message: &str) {
        SINK.with(|s| match &*s.borrow() {
            Some(sink) => sink(level, target, message),
            None => eprintln!("[{} {target}] {message}", level.as_str()),
        });
    }
}
