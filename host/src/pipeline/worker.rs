//! [`NodeWorker`]: what one node's thread does in a run: create the node,
//! call it for each item, send its outputs on, recover from failures as the
//! node's `on_error` says, and flush it at the end.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, NodeFailure, Stage};
use crate::factory::NodeSpec;
use crate::manifest::OnError;
use crate::node::{Node, catch_panic};
use crate::pipeline::stats::{LatencyHistogram, NodeStats};
use crate::pipeline::channel::{self, host_size};
use crate::pipeline::{Output, RunState};
use crate::sandbox::WasmEngine;

/// What a node thread owns.
pub(crate) struct NodeWorker {
    pub(crate) spec: NodeSpec,
    pub(crate) engine: Arc<WasmEngine>,
    pub(crate) input: channel::Receiver,
    pub(crate) downstream: Vec<channel::Sender>,
    pub(crate) sink: Option<mpsc::Sender<Output>>,
    pub(crate) state: Arc<RunState>,
    pub(crate) on_error: OnError,
}

impl NodeWorker {
    /// Create the node; a panic while creating it is that node's failure.
    fn create_node(&self) -> Result<Box<dyn Node>, Error> {
        catch_panic(|| Ok(self.spec.create(&self.engine))).unwrap_or_else(|failure| {
            Err(Error::Node { node: self.spec.id.clone(), stage: Stage::Create, failure })
        })
    }

    pub(crate) fn run(mut self, ready: oneshot::Sender<bool>) -> NodeStats {
        let mut stats = self.work(ready);
        stats.input_peak_bytes = self.input.peak_bytes();
        stats
    }

    fn work(&mut self, ready: oneshot::Sender<bool>) -> NodeStats {
        let mut stats = NodeStats {
            id: self.spec.id.clone(),
            runtime: self.spec.runtime,
            create: Duration::ZERO,
            items_in: 0,
            items_out: 0,
            latency: LatencyHistogram::default(),
            failed: 0,
            restarts: 0,
            input_peak_bytes: 0,
        };
        let created = Instant::now();
        let mut node = match self.create_node() {
            Ok(node) => node,
            Err(e) => {
                self.state.fail(e);
                let _ = ready.send(false);
                return stats;
            }
        };
        stats.create = created.elapsed();
        let _ = ready.send(true);

        let mut out = Vec::new();
        while let Some(item) = self.input.blocking_recv() {
            if self.state.failed.load(Ordering::Relaxed) {
                return stats;
            }
            stats.items_in += 1;
            let t = Instant::now();
            let result = catch_panic(|| node.process(item, &mut out));
            stats.latency.record(t.elapsed());
            if let Err(failure) = result {
                out.clear();
                match self.recover(&mut node, Stage::Item(stats.items_in), failure, &mut stats) {
                    Ok(()) => continue,
                    Err(()) => return stats,
                }
            }
            if !self.send(&mut out, &mut stats) {
                return stats;
            }
        }
        // End of stream, unless the run is stopping because a node failed.
        if self.state.failed.load(Ordering::Relaxed) {
            return stats;
        }
        match catch_panic(|| node.flush(&mut out)) {
            Ok(()) => {
                self.send(&mut out, &mut stats);
            }
            Err(failure) => {
                let _ = self.recover(&mut node, Stage::Flush, failure, &mut stats);
            }
        }
        stats
    }

    /// Deal with a failed call as `on_error` says: stop the run (`Err`), or
    /// report the item and go on, with a fresh node when the old one was
    /// lost or the policy asks for it.
    fn recover(&self, node: &mut Box<dyn Node>, stage: Stage, failure: NodeFailure, stats: &mut NodeStats) -> Result<(), ()> {
        let restart = match self.on_error {
            OnError::Fail => {
                self.state.fail(Error::Node { node: self.spec.id.clone(), stage, failure });
                return Err(());
            }
            OnError::Skip => failure.is_fatal(),
            OnError::Restart => true,
        };
        stats.failed += 1;
        let error = Error::Node { node: self.spec.id.clone(), stage, failure };
        tracing::warn!(node = %self.spec.id, "skipped: {}", error.to_string().lines().next().unwrap_or_default());
        self.state.skip(error);
        if restart {
            // Drop the old instance first: its memory goes back before the
            // new one takes its own.
            *node = Box::new(Restarting);
            match self.create_node() {
                Ok(fresh) => {
                    *node = fresh;
                    stats.restarts += 1;
                    tracing::warn!(node = %self.spec.id, "node created afresh; its state was reset");
                }
                Err(e) => {
                    self.state.fail(e);
                    return Err(());
                }
            }
        }
        Ok(())
    }

    /// Send outputs downstream; false when the run is stopping.
    fn send(&self, out: &mut Vec<Value>, stats: &mut NodeStats) -> bool {
        for value in out.drain(..) {
            stats.items_out += 1;
            if let Some(sink) = &self.sink
                && sink.blocking_send(Output { node: self.spec.id.clone(), value: value.clone() }).is_err()
            {
                return false;
            }
            if let Some((last, rest)) = self.downstream.split_last() {
                let size = host_size(&value);
                for tx in rest {
                    if tx.blocking_send(value.clone(), size).is_err() {
                        return false;
                    }
                }
                if last.blocking_send(value, size).is_err() {
                    return false;
                }
            }
        }
        true
    }
}

/// Stands in for a node between dropping a lost instance and creating the next.
struct Restarting;

impl Node for Restarting {
    fn process(&mut self, _: Value, _: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Err(NodeFailure::Poisoned)
    }
    fn flush(&mut self, _: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Err(NodeFailure::Poisoned)
    }
}

