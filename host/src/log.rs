//! [`GuestLog`]: where a node's log records and stdout/stderr go. Records
//! are emitted with `tracing` under the target `nodehost::node`, tagged with
//! the node's id, and bounded per call: past the budget they are counted and
//! dropped, and one warning says how much was lost.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use nodehost_sdk::log::Level;

use crate::value::text::escape_controls;

/// The log of one node.
pub struct GuestLog {
    node: Arc<str>,
    limit: usize,
    remaining: AtomicUsize,
    dropped: AtomicU64,
    /// Whether anything was logged or written since the last call started:
    /// when not, starting a call has nothing to do.
    dirty: AtomicBool,
    /// Partial lines written to stdout / stderr, waiting for their newline.
    partial: Mutex<[Vec<u8>; 2]>,
}

/// Which standard stream a guest wrote to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    /// The stream's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl GuestLog {
    /// A log for node `node` keeping at most `limit` bytes per call.
    pub fn new(node: &str, limit: usize) -> Arc<Self> {
        Arc::new(GuestLog {
            node: node.into(),
            limit,
            remaining: AtomicUsize::new(limit),
            dropped: AtomicU64::new(0),
            dirty: AtomicBool::new(false),
            partial: Mutex::new([Vec::new(), Vec::new()]),
        })
    }

    /// The node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Give the running call the budget of `calls` calls: a batch of
    /// inputs answered in one call may log what they could one by one.
    pub(crate) fn widen_call_budget(&self, calls: usize) {
        self.remaining.store(self.limit.saturating_mul(calls), Ordering::Relaxed);
    }

    /// Take `cost` bytes from this call's budget; false (and the bytes
    /// counted as dropped) when it is spent.
    fn grant(&self, cost: usize) -> bool {
        self.dirty.store(true, Ordering::Relaxed);
        let granted = self.remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(cost)).is_ok();
        if !granted {
            self.dropped.fetch_add(cost as u64, Ordering::Relaxed);
        }
        granted
    }

    /// Count `bytes` of output the node wrote as dropped without looking
    /// at them (the next call's start warns about them).
    pub(crate) fn count_dropped(&self, bytes: u64) {
        if bytes > 0 {
            self.dirty.store(true, Ordering::Relaxed);
            self.dropped.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Emit one record, if the budget allows.
    pub fn emit(&self, level: Level, target: &str, message: &str) {
        if self.grant(message.len() + target.len()) {
            self.emit_granted(level, target, message);
        }
    }

    fn emit_granted(&self, level: Level, target: &str, message: &str) {
        let node = &*self.node;
        let target = escape_controls(target, false);
        let message = escape_controls(message, true);
        match level {
            Level::Error => tracing::error!(target: "nodehost::node", node, from = &*target, "{message}"),
            Level::Warn => tracing::warn!(target: "nodehost::node", node, from = &*target, "{message}"),
            Level::Info => tracing::info!(target: "nodehost::node", node, from = &*target, "{message}"),
            Level::Debug => tracing::debug!(target: "nodehost::node", node, from = &*target, "{message}"),
            Level::Trace => tracing::trace!(target: "nodehost::node", node, from = &*target, "{message}"),
        }
    }

    /// Bytes a guest wrote to stdout or stderr: whole lines become records.
    /// Lines are found with a cursor (each byte is looked at once), a line
    /// past the budget is counted and dropped before it is decoded, and a
    /// line with no end is emitted in pieces rather than kept forever.
    pub(crate) fn write_stream(&self, stream: Stream, bytes: &[u8]) {
        self.dirty.store(true, Ordering::Relaxed);
        let mut partial = self.partial.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let buf = &mut partial[stream as usize];
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = (&rest[..newline], &rest[newline + 1..]);
            if buf.is_empty() {
                self.emit_stream_line(stream, line);
            } else {
                buf.extend_from_slice(line);
                let whole = std::mem::take(buf);
                self.emit_stream_line(stream, &whole);
            }
            rest = after;
        }
        buf.extend_from_slice(rest);
        if buf.len() > self.limit.max(4096) {
            let piece = std::mem::take(buf);
            self.emit_stream_line(stream, &piece);
        }
    }

    fn emit_stream_line(&self, stream: Stream, line: &[u8]) {
        let level = match stream {
            Stream::Stdout => Level::Info,
            Stream::Stderr => Level::Warn,
        };
        let target = stream.name();
        if self.grant(line.len() + target.len()) {
            self.emit_granted(level, target, &String::from_utf8_lossy(line));
        }
    }

    /// Start a new call: flush partial lines, refill the budget, and warn
    /// about what the last call dropped.
    pub fn start_call(&self) {
        // A plain load first: most calls log nothing, and a swap is a
        // locked instruction on every call.
        if !self.dirty.load(Ordering::Relaxed) || !self.dirty.swap(false, Ordering::Relaxed) {
            return;
        }
        let pending: Vec<(Stream, Vec<u8>)> = {
            let mut partial = self.partial.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            [Stream::Stdout, Stream::Stderr]
                .into_iter()
                .filter_map(|s| {
                    let buf = std::mem::take(&mut partial[s as usize]);
                    (!buf.is_empty()).then_some((s, buf))
                })
                .collect()
        };
        for (stream, line) in pending {
            self.emit_stream_line(stream, &line);
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                target: "nodehost::node",
                node = &*self.node,
                "dropped {dropped} bytes of log output over the per-call limit of {} bytes",
                self.limit
            );
        }
        self.remaining.store(self.limit, Ordering::Relaxed);
    }
}

/// Route the SDK's native log calls on this thread (native Rust and
/// RustPython nodes, CPython's `_nodehost.log`) to `log`.
pub(crate) fn route_native_logs(log: Arc<GuestLog>) {
    nodehost_sdk::log::set_thread_sink(Some(Box::new(move |level, target, message| {
        log.emit(level, target, message);
    })));
}
