//! [`GroupWorker`]: what one pipeline thread does in a run. It runs a
//! group of nodes: one node, or a linear chain of them fused onto one
//! thread (see [`super::groups`]). It creates them (one thread at a time
//! while creating is quick: [`CREATION_TURNS`]), takes the batches its
//! input channel holds, hands each node its inputs as batches (one
//! [`Node::process_many`] call each, at most [`HOLD_OUTPUTS`] long, whose
//! outputs go down the chain before the next batch starts), sends the last
//! node's outputs on in batches, recovers from failures as each node's
//! `on_error` says (each input answered on its own), and flushes the nodes
//! at the end, upstream first.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use tokio::sync::oneshot;

use crate::error::{Error, NodeFailure, Stage};
use crate::factory::NodeSpec;
use crate::manifest::OnError;
use crate::node::{ItemAnswer, Node, catch_panic};
use crate::pipeline::channel;
use crate::pipeline::stats::{LatencyHistogram, NodeStats};
use crate::pipeline::{Output, RunState, Sink};
use crate::sandbox::WasmEngine;

/// How long outputs may wait on a thread for the rest of their input batch
/// before they are sent on anyway. Outputs of an item that itself took
/// longer go at once, so batching adds at most this, plus one item's time
/// where a fast item is followed by a slow one.
const HOLD_OUTPUTS: Duration = Duration::from_millis(1);

/// How long a thread waits for another's node creation before it creates
/// its own alongside.
const CREATION_WAIT: Duration = Duration::from_millis(20);

/// Node creation takes turns in this process: nodes are created one at a
/// time while creating them is quick. A new sandboxed instance's first
/// writes copy pages of its memory image, and while another thread of the
/// process runs on the other core, each such copy interrupts that core to
/// flush its TLB, which in a virtual machine cost more than the copies (the
/// chain of three sandboxed Python nodes started in 31 ms, with 43 ms of
/// CPU, created at once; in 27 ms and 26 ms one at a time). A slow creation
/// (a node that loads a model) holds the others back [`CREATION_WAIT`] at
/// most.
static CREATION_TURNS: CreationTurns = CreationTurns::new();

/// Turns to create nodes: whether one is taken, and where waiters wait.
struct CreationTurns {
    taken: Mutex<bool>,
    given_back: Condvar,
}

/// A turn to create a node, given back on drop.
struct CreationTurn<'a>(&'a CreationTurns);

impl CreationTurns {
    const fn new() -> Self {
        CreationTurns { taken: Mutex::new(false), given_back: Condvar::new() }
    }

    /// Wait for the turn, at most `wait`; `None` when the wait ran out
    /// (create anyway).
    fn take(&self, wait: Duration) -> Option<CreationTurn<'_>> {
        let deadline = Instant::now() + wait;
        let mut taken = self.taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *taken {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            taken = self.given_back.wait_timeout(taken, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        *taken = true;
        Some(CreationTurn(self))
    }
}

impl Drop for CreationTurn<'_> {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = false;
        self.0.given_back.notify_one();
    }
}

/// One node of a group: how to create it, and what to do when it fails.
pub(crate) struct Member {
    pub(crate) spec: NodeSpec,
    pub(crate) on_error: OnError,
}

/// What a pipeline thread owns.
pub(crate) struct GroupWorker {
    /// The nodes, upstream first; each takes the one before's outputs.
    pub(crate) members: Vec<Member>,
    /// Which thread of the run this is (for the statistics).
    pub(crate) thread: usize,
    pub(crate) engine: Arc<WasmEngine>,
    pub(crate) input: channel::Receiver,
    /// Where the last node's outputs go: downstream channels, or...
    pub(crate) downstream: Vec<channel::Sender>,
    /// ...the pipeline's output when the last node is a sink.
    pub(crate) sink: Option<Sink>,
    pub(crate) state: Arc<RunState>,
}

/// A created member: the node and its statistics.
struct Running {
    node: Box<dyn Node>,
    stats: NodeStats,
}

/// The run is stopping (a node failed, or a downstream is gone).
struct Stop;

/// The last member's outputs not sent yet, and since when the first of
/// them has waited.
struct Chain {
    pending: Vec<Value>,
    held_since: Option<Instant>,
}

impl GroupWorker {
    /// Create member `k`'s node; a panic while creating it is that node's
    /// failure.
    fn create_node(&self, k: usize) -> Result<Box<dyn Node>, Error> {
        let spec = &self.members[k].spec;
        let _turn = CREATION_TURNS.take(CREATION_WAIT);
        catch_panic(|| Ok(spec.create(&self.engine)))
            .unwrap_or_else(|failure| Err(Error::Node { node: spec.id.clone(), stage: Stage::Create, failure }))
    }

    /// Run the group; every member's statistics, in the members' order.
    pub(crate) fn run(self, ready: oneshot::Sender<bool>) -> Vec<NodeStats> {
        let mut running = Vec::with_capacity(self.members.len());
        let mut created_all = true;
        for (k, member) in self.members.iter().enumerate() {
            let mut stats = NodeStats::new(&member.spec, self.thread);
            let created = Instant::now();
            match self.create_node(k) {
                Ok(node) => {
                    stats.create = created.elapsed();
                    running.push(Running { node, stats });
                }
                Err(e) => {
                    self.state.fail(e);
                    created_all = false;
                    break;
                }
            }
        }
        let _ = ready.send(created_all);
        if created_all {
            let _ = self.work(&mut running);
        }
        let mut stats: Vec<NodeStats> = running.into_iter().map(|r| r.stats).collect();
        for member in &self.members[stats.len()..] {
            stats.push(NodeStats::new(&member.spec, self.thread));
        }
        if let Some(first) = stats.first_mut() {
            first.input_peak_bytes = self.input.peak_bytes();
        }
        stats
    }

    fn work(&self, running: &mut [Running]) -> Result<(), Stop> {
        let mut input = Vec::new();
        let mut chain = Chain { pending: Vec::new(), held_since: None };
        while self.input.recv_batch(&mut input) {
            let mut items = VecDeque::from(std::mem::take(&mut input));
            self.pass(running, 0, &mut items, Instant::now(), &mut chain)?;
            // The emptied buffer takes the next batch (and goes back to
            // the sender in exchange for it).
            input = Vec::from(items);
            self.send(&mut chain.pending)?;
            chain.held_since = None;
        }
        // End of stream, unless the run is stopping because a node failed.
        if self.state.failed.load(Ordering::Relaxed) {
            return Err(Stop);
        }
        for k in 0..running.len() {
            let r = &mut running[k];
            let mut flushed = Vec::new();
            let started = Instant::now();
            match catch_panic(|| r.node.flush(&mut flushed)) {
                Ok(()) => r.stats.items_out += flushed.len() as u64,
                Err(failure) => self.recover(running, k, Stage::Flush, failure)?,
            }
            self.pass(running, k + 1, &mut flushed.into(), started, &mut chain)?;
        }
        self.send(&mut chain.pending)
    }

    /// Pass `items` through member `k` and the members after it, in
    /// batches the node answers in one call each (bounded in time by
    /// [`HOLD_OUTPUTS`]), each batch's outputs going on down the chain
    /// before the next batch starts; the last member's outputs wait in
    /// `chain`, and go on once they have waited long enough. `started` is
    /// when the work that made these items began (unused for the first
    /// member: each of its batches is that work).
    fn pass(&self, running: &mut [Running], k: usize, items: &mut VecDeque<Value>, started: Instant, chain: &mut Chain) -> Result<(), Stop> {
        if k == running.len() {
            if items.is_empty() {
                return Ok(());
            }
            if chain.pending.is_empty() {
                // Take the batch's buffer rather than copying it.
                chain.pending = Vec::from(std::mem::take(items));
            } else {
                chain.pending.extend(items.drain(..));
            }
            let now = Instant::now();
            let since = *chain.held_since.get_or_insert(now);
            // Slow work (past the hold) sends at once: what comes next
            // would keep these waiting as long.
            if now - started >= HOLD_OUTPUTS || now - since >= HOLD_OUTPUTS {
                self.send(&mut chain.pending)?;
                chain.held_since = None;
            }
            return Ok(());
        }
        // Sized for one output and one answer per input up front: growing
        // them an item at a time cost more than the nodes' own work on a
        // chain of cheap native nodes.
        let (mut out, mut answers) = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
        while !items.is_empty() {
            if self.state.failed.load(Ordering::Relaxed) {
                return Err(Stop);
            }
            let r = &mut running[k];
            let batch_started = Instant::now();
            let taken = catch_panic(|| {
                r.node.process_many(items, HOLD_OUTPUTS, &mut out, &mut answers);
                Ok(())
            });
            if let Err(failure) = taken {
                // The input the node had when it panicked fails, and
                // leaves no outputs.
                out.truncate(answers.iter().map(|a| a.outputs).sum());
                answers.push(ItemAnswer::failed(failure));
            }
            // Each input's outputs, in order; a failed input's are none.
            let mut kept;
            if answers.iter().all(|a| a.result.is_ok()) {
                // The common case: every output goes on, in one move.
                let r = &mut running[k];
                r.stats.items_in += answers.len() as u64;
                r.stats.items_out += out.len() as u64;
                for answer in answers.drain(..) {
                    r.stats.latency.record(answer.elapsed);
                }
                kept = VecDeque::from(std::mem::replace(&mut out, Vec::with_capacity(items.len())));
            } else {
                kept = VecDeque::with_capacity(out.len());
                let mut outputs = out.drain(..);
                for answer in answers.drain(..) {
                    let r = &mut running[k];
                    r.stats.items_in += 1;
                    r.stats.latency.record(answer.elapsed);
                    match answer.result {
                        Ok(()) => {
                            r.stats.items_out += answer.outputs as u64;
                            kept.extend(outputs.by_ref().take(answer.outputs));
                        }
                        Err(failure) => {
                            let item = r.stats.items_in;
                            self.recover(running, k, Stage::Item(item), *failure)?;
                        }
                    }
                }
            }
            // Outputs wait as long as the first member's batch that made them.
            let origin = if k == 0 { batch_started } else { started };
            self.pass(running, k + 1, &mut kept, origin, chain)?;
        }
        Ok(())
    }

    /// Deal with a failed call of member `k` as its `on_error` says: stop
    /// the run, or report the item and go on, with a fresh node when the
    /// old one was lost or the policy asks for it.
    fn recover(&self, running: &mut [Running], k: usize, stage: Stage, failure: NodeFailure) -> Result<(), Stop> {
        let member = &self.members[k];
        let restart = match member.on_error {
            OnError::Fail => {
                self.state.fail(Error::Node { node: member.spec.id.clone(), stage, failure });
                return Err(Stop);
            }
            OnError::Skip => failure.is_fatal(),
            OnError::Restart => true,
        };
        let r = &mut running[k];
        r.stats.failed += 1;
        let error = Error::Node { node: member.spec.id.clone(), stage, failure };
        tracing::warn!(node = %member.spec.id, "skipped: {}", error.to_string().lines().next().unwrap_or_default());
        self.state.skip(error);
        if restart {
            // Drop the old instance first: its memory goes back before the
            // new one takes its own.
            r.node = Box::new(Restarting);
            match self.create_node(k) {
                Ok(fresh) => {
                    running[k].node = fresh;
                    running[k].stats.restarts += 1;
                    tracing::warn!(node = %member.spec.id, "node created afresh; its state was reset");
                }
                Err(e) => {
                    self.state.fail(e);
                    return Err(Stop);
                }
            }
        }
        Ok(())
    }

    /// Send the last node's outputs on, as one batch.
    fn send(&self, out: &mut Vec<Value>) -> Result<(), Stop> {
        if out.is_empty() {
            return Ok(());
        }
        if let Some(sink) = &self.sink {
            let id = &self.members[self.members.len() - 1].spec.id;
            return match sink {
                Sink::Channel(tx) => {
                    let id: Arc<str> = Arc::from(id.as_str());
                    let batch = out.drain(..).map(|value| Output { node: Arc::clone(&id), value }).collect();
                    tx.blocking_send(batch).map_err(|_| Stop)
                }
                // Flushed unless this thread has more input queued: its
                // outputs follow soon.
                Sink::Writer(writer) => writer.write(id, out.drain(..), !self.input.is_empty()).map_err(|e| {
                    self.state.fail(e);
                    Stop
                }),
            };
        }
        let Some((last, rest)) = self.downstream.split_last() else {
            out.clear();
            return Ok(());
        };
        for tx in rest {
            tx.send_batch(&mut out.clone()).map_err(|_| Stop)?;
        }
        last.send_batch(out).map_err(|_| Stop)
    }
}

impl NodeStats {
    /// No calls yet, for the node `spec` describes on thread `thread`.
    fn new(spec: &NodeSpec, thread: usize) -> Self {
        NodeStats {
            id: spec.id.clone(),
            runtime: spec.runtime,
            thread,
            create: Duration::ZERO,
            items_in: 0,
            items_out: 0,
            latency: LatencyHistogram::default(),
            failed: 0,
            restarts: 0,
            input_peak_bytes: 0,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_created_one_at_a_time_unless_a_creation_takes_long() {
        static TURNS: CreationTurns = CreationTurns::new();
        let first = TURNS.take(Duration::from_secs(5)).expect("a free turn");
        // Given back after 50 ms: the other thread waits for it.
        let waiter = std::thread::spawn(|| {
            let turn = TURNS.take(Duration::from_secs(5));
            (turn.is_some(), Instant::now())
        });
        std::thread::sleep(Duration::from_millis(50));
        let given_back = Instant::now();
        drop(first);
        let (got, at) = waiter.join().expect("waiter");
        assert!(got, "the waiter gave up");
        assert!(at >= given_back, "the waiter took the turn {:?} before it was given back", given_back - at);
        // Held past the wait: the other goes ahead without it.
        let held = TURNS.take(Duration::from_secs(5)).expect("given back");
        let started = Instant::now();
        assert!(TURNS.take(Duration::from_millis(30)).is_none());
        assert!(started.elapsed() >= Duration::from_millis(25), "gave up after {:?}", started.elapsed());
        drop(held);
        assert!(TURNS.take(Duration::ZERO).is_some(), "the turn was not given back");
    }
}
