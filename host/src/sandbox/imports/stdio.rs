//! A node's `wasi:cli` stdout and stderr: whole lines go to the node's log,
//! within its per-call log budget; stdout carries staged bytes instead when
//! the component asked for them (see `sandbox::staging`).

use std::sync::Arc;

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

use crate::log::{GuestLog, Stream};
use crate::sandbox::staging::Staging;

/// How many bytes one write may carry: what `check-write` permits. WASI
/// requires writers to ask first; a write past the permit is refused (a
/// trap), so one call cannot hand the host unbounded work.
const WRITE_PERMIT: usize = 64 << 10;

/// A guest's stdout or stderr.
#[derive(Clone)]
pub(crate) struct GuestStream {
    log: Arc<GuestLog>,
    stream: Stream,
    /// Stdout's staged bytes, when the component asks for them.
    staging: Option<Staging>,
}

impl GuestStream {
    /// The node's stdout: into `staging` once that is enabled, else into
    /// `log`.
    pub(crate) fn stdout(log: Arc<GuestLog>, staging: Staging) -> Self {
        GuestStream { log, stream: Stream::Stdout, staging: Some(staging) }
    }

    /// The node's stderr, into `log`.
    pub(crate) fn stderr(log: Arc<GuestLog>) -> Self {
        GuestStream { log, stream: Stream::Stderr, staging: None }
    }
}

impl IsTerminal for GuestStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestStream {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if bytes.len() > WRITE_PERMIT {
            return Err(StreamError::trap(&format!(
                "the node wrote {} bytes to its {} at once; check-write permits {WRITE_PERMIT}",
                bytes.len(),
                self.stream.name()
            )));
        }
        if !self.staging.as_ref().is_some_and(|s| s.write(&bytes)) {
            self.log.write_stream(self.stream, &bytes);
        }
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}
