//! Logging to the host. A Rust node logs through the `log` crate's
//! facade (`log::info!("...")`); the SDK installs the logger ([`install`])
//! when a component is configured and whenever a [`Registry`](crate::Registry)
//! creates a node, and lets every level through (the host filters and bounds
//! what it keeps).
//!
//! Inside a component a record goes through the WIT `host.log` import and
//! the host emits it with `tracing`, tagged with the node's id. In a native
//! build it goes to the sink the embedding host set for the current thread
//! with [`set_thread_sink`] (or to stderr when none is set); records that
//! other code in the host process emits through the facade on threads where
//! no Rust node was created are not the node's: warnings and errors among
//! them go to stderr, the rest is dropped.
//!
//! Runtimes that forward records from another language (Python's `logging`)
//! call [`log()`] directly.

use std::sync::Once;

/// Severity of a log record; mirrors the WIT `log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    /// The level a Python node's helper module passes to `_nodehost.log`
    /// (0 trace, 1 debug, 2 info, 3 warn, 4 error; below and above clamp).
    pub fn from_number(level: i32) -> Level {
        match level {
            i32::MIN..=0 => Level::Trace,
            1 => Level::Debug,
            2 => Level::Info,
            3 => Level::Warn,
            _ => Level::Error,
        }
    }
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

impl From<::log::Level> for Level {
    fn from(level: ::log::Level) -> Self {
        match level {
            ::log::Level::Trace => Level::Trace,
            ::log::Level::Debug => Level::Debug,
            ::log::Level::Info => Level::Info,
            ::log::Level::Warn => Level::Warn,
            ::log::Level::Error => Level::Error,
        }
    }
}

/// Emit one record to the host (for runtimes forwarding records from
/// another language; Rust nodes use the `log` macros).
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

/// Log at warn level (a runtime's own message).
pub fn warn(target: &str, message: &str) {
    log(Level::Warn, target, message);
}

/// Make the SDK's logger the `log` facade's logger, letting every level
/// through, if no other logger is installed yet (otherwise records go to
/// that one). Cheap after the first call.
pub fn install() {
    static LOGGER: HostLogger = HostLogger;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if ::log::set_logger(&LOGGER).is_ok() {
            ::log::set_max_level(::log::LevelFilter::Trace);
        }
    });
}

/// The `log` facade's logger: records to the host (see the module docs).
struct HostLogger;

impl ::log::Log for HostLogger {
    fn enabled(&self, metadata: &::log::Metadata<'_>) -> bool {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = metadata;
            true
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            native::facade_enabled(metadata.level())
        }
    }

    fn log(&self, record: &::log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = Level::from(record.level());
        match record.args().as_str() {
            Some(message) => log(level, record.target(), message),
            None => log(level, record.target(), &record.args().to_string()),
        }
    }

    fn flush(&self) {}
}

/// Mark the current thread as one that runs Rust nodes: from now on the
/// facade's records on it are the node's. [`Registry::create`](crate::Registry::create)
/// calls this (and [`install`]).
pub(crate) fn adopt_thread() {
    install();
    #[cfg(not(target_arch = "wasm32"))]
    native::NODE_THREAD.with(|t| t.set(true));
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{LogSink, set_thread_sink};

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::Level;
    use std::cell::{Cell, RefCell};

    /// Where a native node's log records go.
    pub type LogSink = Box<dyn Fn(Level, &str, &str)>;

    thread_local! {
        static SINK: RefCell<Option<LogSink>> = const { RefCell::new(None) };
        /// Whether a Rust node was created on this thread.
        pub(super) static NODE_THREAD: Cell<bool> = const { Cell::new(false) };
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

    /// Whether a facade record at `level` is kept: every level on a thread
    /// that runs Rust nodes, warnings and errors elsewhere.
    pub(super) fn facade_enabled(level: ::log::Level) -> bool {
        level <= ::log::Level::Warn || NODE_THREAD.with(Cell::get)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::{Level, set_thread_sink};
    use crate::{Node, NodeError, Params, Value};

    /// A node that logs through the facade, as a node author writes it.
    struct Chatty;

    impl Node for Chatty {
        const NAME: &'static str = "chatty";
        fn new(_params: &Params) -> Result<Self, NodeError> {
            ::log::debug!("created");
            Ok(Chatty)
        }
        fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
            ::log::info!("got {input}");
            out.push(input);
            Ok(())
        }
    }

    crate::export_nodes!(Chatty);

    type Records = Arc<Mutex<Vec<(Level, String, String)>>>;

    fn capture() -> Records {
        let records = Records::default();
        let sink = records.clone();
        set_thread_sink(Some(Box::new(move |level, target, message| {
            sink.lock().unwrap().push((level, target.to_owned(), message.to_owned()));
        })));
        records
    }

    #[test]
    fn a_native_nodes_log_records_reach_the_thread_sink() {
        std::thread::spawn(|| {
            let records = capture();
            let mut node = node_registry().create("chatty", Value::Null).unwrap();
            let mut out = Vec::new();
            node.process(Value::Int(7), &mut out).unwrap();
            set_thread_sink(None);
            let records = records.lock().unwrap();
            let target = module_path!().to_owned();
            assert_eq!(
                *records,
                [(Level::Debug, target.clone(), "created".to_owned()), (Level::Info, target, "got 7".to_owned())]
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn other_threads_keep_only_warnings_of_the_facade() {
        std::thread::spawn(|| {
            super::install();
            let records = capture();
            ::log::info!("not a node's record");
            ::log::warn!("a warning");
            super::warn("runtime", "direct");
            set_thread_sink(None);
            let records = records.lock().unwrap();
            let messages: Vec<_> = records.iter().map(|(_, _, m)| m.as_str()).collect();
            assert_eq!(messages, ["a warning", "direct"]);
        })
        .join()
        .unwrap();
    }
}
