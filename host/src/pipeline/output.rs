//! How outputs are written: one line per output, JSON or text, by the
//! threads of the sink nodes themselves ([`OutputWriter`]), through one
//! shared buffer.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;

use crate::error::Error;
use crate::manifest::OutputFormat;
use crate::pipeline::Output;
use crate::value::json::{write_json, write_str};
use crate::value::text::escape_controls;

/// Format one output line. In text format a string is written as it is,
/// except for control characters (a newline included), which are escaped:
/// one output stays one line, and a node cannot send escape sequences to
/// the terminal.
pub fn format_output(output: &Output, format: OutputFormat, tag: bool) -> String {
    let mut line = Vec::new();
    write_output(&mut line, output, format, tag);
    String::from_utf8(line).expect("output lines are UTF-8")
}

/// Append one output line (without its newline) to `line`, as
/// [`format_output`] gives it.
pub fn write_output(line: &mut Vec<u8>, output: &Output, format: OutputFormat, tag: bool) {
    write_line(line, &output.node, &output.value, format, tag);
}

/// [`write_output`] for `value` from node `node`.
fn write_line(line: &mut Vec<u8>, node: &str, value: &Value, format: OutputFormat, tag: bool) {
    if tag {
        match format {
            OutputFormat::Text => {
                line.extend_from_slice(node.as_bytes());
                line.extend_from_slice(b": ");
            }
            OutputFormat::Jsonl => {
                line.extend_from_slice(b"{\"node\":");
                write_str(line, node);
                line.extend_from_slice(b",\"value\":");
            }
        }
    }
    match (value, format) {
        (Value::Str(s), OutputFormat::Text) => line.extend_from_slice(escape_controls(s, false).as_bytes()),
        (v, _) => write_json(line, v),
    }
    if tag && format == OutputFormat::Jsonl {
        line.push(b'}');
    }
}

/// How many bytes a pipe on standard output is asked to hold (Linux's
/// default limit for an unprivileged process, `fs.pipe-max-size`).
const PIPE_BYTES: libc::c_int = 1 << 20;

/// When standard output is a pipe, ask it to hold [`PIPE_BYTES`] rather
/// than the default 64 KiB, so a write of a full buffer rarely waits for
/// the reading process to be scheduled. Nothing changes where the pipe
/// cannot be grown (another system, a lower limit) or output is not a pipe.
pub(crate) fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fstat fills the zeroed stat it is given; only file
        // descriptor 1 is read.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let is_pipe = unsafe { libc::fstat(libc::STDOUT_FILENO, &mut st) } == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO;
        if is_pipe {
            // SAFETY: F_SETPIPE_SZ on our own standard output changes only
            // the pipe's capacity; a refusal (EPERM, EBUSY) leaves it as it was.
            let _ = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_SETPIPE_SZ, PIPE_BYTES) };
        }
    }
}

/// How many bytes of lines the writer gathers before it writes them out.
const WRITE_BUFFER: usize = 64 << 10;

/// The pipeline's output file or standard output, written by the sink
/// nodes' threads as their batches are ready (no writer thread for the
/// outputs to wait for). Lines are formatted straight into one buffer of
/// [`WRITE_BUFFER`] bytes (no copy per line), written out when it is full,
/// whenever the thread that wrote last has nothing more queued, or after
/// every line when `line_buffered`.
pub(crate) struct OutputWriter {
    state: Mutex<WriterState>,
    format: OutputFormat,
    /// Lines carry their sink node's id (the pipeline has several sinks).
    tag: bool,
    line_buffered: bool,
    started: Instant,
}

struct WriterState {
    sink: Box<dyn Write + Send>,
    /// Lines not written out yet.
    buffer: Vec<u8>,
    count: u64,
    first: Option<Duration>,
}

/// What an [`OutputWriter`] wrote: how many lines, and when the first
/// left, from the writer's `started`.
#[derive(Default)]
pub(crate) struct Written {
    pub(crate) count: u64,
    pub(crate) first: Option<Duration>,
}

impl OutputWriter {
    /// Write to `sink`; lines formatted as `format`, tagged with their
    /// node when `tag`.
    pub(crate) fn new(sink: Box<dyn Write + Send>, format: OutputFormat, tag: bool, line_buffered: bool, started: Instant) -> Self {
        OutputWriter {
            state: Mutex::new(WriterState { sink, buffer: Vec::with_capacity(WRITE_BUFFER), count: 0, first: None }),
            format,
            tag,
            line_buffered,
            started,
        }
    }

    /// Write node `node`'s `values`, a line each, and flush unless
    /// `more_ready` (the caller has more queued to write soon).
    pub(crate) fn write(&self, node: &str, values: impl Iterator<Item = Value>, more_ready: bool) -> Result<(), Error> {
        let write_error = |e| Error::io("writing output", e);
        let mut guard = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let state = &mut *guard;
        state.first.get_or_insert_with(|| self.started.elapsed());
        for value in values {
            state.count += 1;
            write_line(&mut state.buffer, node, &value, self.format, self.tag);
            state.buffer.push(b'\n');
            if self.line_buffered || state.buffer.len() >= WRITE_BUFFER {
                state.write_out().map_err(write_error)?;
            }
        }
        if !more_ready {
            state.write_out().map_err(write_error)?;
        }
        Ok(())
    }

    /// Write out and flush what is left; how much was written.
    pub(crate) fn finish(self) -> Result<Written, Error> {
        let mut state = self.state.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.write_out().map_err(|e| Error::io("writing output", e))?;
        Ok(Written { count: state.count, first: state.first })
    }
}

impl WriterState {
    /// Write the buffered lines to the sink and flush it. The buffer goes
    /// back to its usual size if one large line grew it.
    fn write_out(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            let written = self.sink.write_all(&self.buffer);
            self.buffer.clear();
            if self.buffer.capacity() > 4 * WRITE_BUFFER {
                self.buffer = Vec::with_capacity(WRITE_BUFFER);
            }
            written?;
        }
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_output_is_one_line_without_escape_sequences() {
        let output = Output { node: "n".into(), value: Value::Str("a\nb \u{1b}[2J".into()) };
        assert_eq!(format_output(&output, OutputFormat::Text, false), "a\\nb \\u{1b}[2J");
        assert_eq!(format_output(&output, OutputFormat::Jsonl, false), "\"a\\nb \\u001b[2J\"");
        assert_eq!(format_output(&output, OutputFormat::Jsonl, true), "{\"node\":\"n\",\"value\":\"a\\nb \\u001b[2J\"}");
        assert_eq!(format_output(&output, OutputFormat::Text, true), "n: a\\nb \\u{1b}[2J");
    }

    /// A sink whose bytes the test can read, counting its flushes.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.lock().unwrap().1 += 1;
            Ok(())
        }
    }

    #[test]
    fn lines_wait_in_the_buffer_until_the_writer_has_nothing_more_ready() {
        let sink = Shared::default();
        let writer = OutputWriter::new(Box::new(sink.clone()), OutputFormat::Jsonl, false, false, Instant::now());
        writer.write("n", [Value::Int(1), Value::Str("two".into())].into_iter(), true).unwrap();
        assert!(sink.0.lock().unwrap().0.is_empty(), "more is ready: nothing is written yet");
        writer.write("n", std::iter::once(Value::Null), false).unwrap();
        assert_eq!(sink.0.lock().unwrap().0, b"1\n\"two\"\nnull\n");
        assert_eq!(sink.0.lock().unwrap().1, 1);

        // A line larger than the buffer goes out whole, and the buffer
        // goes back to its size.
        let big = "x".repeat(5 * WRITE_BUFFER);
        writer.write("n", std::iter::once(Value::Str(big.clone())), true).unwrap();
        assert_eq!(sink.0.lock().unwrap().0.len(), 13 + big.len() + 3);
        assert!(writer.state.lock().unwrap().buffer.capacity() <= 4 * WRITE_BUFFER);
        let written = writer.finish().unwrap();
        assert_eq!(written.count, 4);
    }

    #[test]
    fn line_buffered_output_is_flushed_after_every_line() {
        let sink = Shared::default();
        let writer = OutputWriter::new(Box::new(sink.clone()), OutputFormat::Text, true, true, Instant::now());
        writer.write("node", [Value::Int(1), Value::Int(2)].into_iter(), true).unwrap();
        let (bytes, flushes) = sink.0.lock().unwrap().clone();
        assert_eq!(bytes, b"node: 1\nnode: 2\n");
        assert_eq!(flushes, 2);
    }
}
