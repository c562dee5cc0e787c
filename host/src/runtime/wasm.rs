//! [`WasmNode`]: a node inside a Wasm component, one store per node
//! instance, with its [`SandboxPolicy`] applied: memory limit, soft and hard
//! CPU deadlines (epoch interruption), optional fuel, bounded outputs and log
//! volume, and only the WASI capabilities the policy grants (by default none:
//! no files, environment, network or stdin). The sandbox itself is in
//! [`crate::sandbox`]; this file is the node on top of it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use nodehost_sdk::codec::packed;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::error::NodeFailure;
use crate::node::{ItemAnswer, Node};
use crate::policy::SandboxPolicy;
use crate::sandbox::bindings::{NodeComponent, types};
use crate::sandbox::codec;
use crate::sandbox::component::{LoadedComponent, instantiate};
use crate::node::CancelHandle;
use crate::sandbox::call::{CallLimits, guest_failure, start_call, take_answer, take_packed_answers};
use crate::sandbox::store::{HostState, arm};
use crate::sandbox::trap::classify;

/// What a [`WasmNode`] is created from.
#[derive(Clone, Copy)]
pub enum WasmSource<'a> {
    /// The Python guest with a node module's source.
    Python { filename: &'a str, source: &'a str, class: &'a str },
    /// A node type a component provides.
    NodeType(&'a str),
}

/// Makes a node afresh: how a [`WasmNode`] replaces an instance it lost in
/// a [`process-batch`](WasmNode#batches) call, to answer that batch's
/// inputs again one by one.
pub type Recreate = Box<dyn Fn() -> Result<WasmNode, NodeFailure>>;

/// Inputs that took longer than this each go one per crossing
/// (`process-many`): their crossing is a small part of their time, and a
/// batch of them would take long to give again if its instance were lost.
const BATCH_ITEM_COST: Duration = Duration::from_micros(50);

/// A [`WasmSource`] that owns its text, kept to make a node again.
pub enum OwnedWasmSource {
    /// See [`WasmSource::Python`].
    Python { filename: String, source: String, class: String },
    /// See [`WasmSource::NodeType`].
    NodeType(String),
}

impl From<&WasmSource<'_>> for OwnedWasmSource {
    fn from(source: &WasmSource<'_>) -> Self {
        match *source {
            WasmSource::Python { filename, source, class } => {
                OwnedWasmSource::Python { filename: filename.to_owned(), source: source.to_owned(), class: class.to_owned() }
            }
            WasmSource::NodeType(name) => OwnedWasmSource::NodeType(name.to_owned()),
        }
    }
}

impl OwnedWasmSource {
    /// The source, borrowed.
    pub fn borrowed(&self) -> WasmSource<'_> {
        match self {
            OwnedWasmSource::Python { filename, source, class } => WasmSource::Python { filename, source, class },
            OwnedWasmSource::NodeType(name) => WasmSource::NodeType(name),
        }
    }
}

/// A node running inside a Wasm component, in its own store.
///
/// # Batches
///
/// Inputs cross the boundary in two ways. `process-many` hands the node one
/// input at a time through `host.next-input`, each a call of its own (its
/// deadlines, fuel, log budget and output limits armed afresh), at a
/// crossing per input. Once the node's inputs are known to be cheap (under
/// [`BATCH_ITEM_COST`] each, from the answers so far), and the policy meters
/// no fuel, `process-batch` takes a whole batch in one crossing each way,
/// sized to take about the pipeline's time budget, under one call's limits:
/// a batch that keeps within one input's deadline kept every input within
/// its own. Where it does not, each input still gets a call's limits:
/// - an input interrupted at the soft deadline is given again on its own;
/// - a trap (the hard deadline, memory, a crash) loses the instance and the
///   answers it held: the node is made afresh ([`Recreate`]) and takes the
///   batch's inputs again one by one, so the one that trapped fails alone
///   and no input is lost. (A stateful node then answers them from a fresh
///   state, as it would after any lost instance.)
///
/// A component that asks for `packed-batches` (the SDK's: Rust nodes and
/// the RustPython guest) takes its batches as `process-packed`: the same
/// batch, its inputs and answers as blocks of bytes in the packed value
/// form (`nodehost_sdk::codec::packed`), one copy each way instead of a
/// lift and a lower per value. Each answer is held to the output limits as
/// it is decoded; bytes that do not frame answers, or more answers than
/// inputs, fail the batch's first input and end batching for the node, as
/// a broken `process-batch` does.
pub struct WasmNode {
    store: Store<HostState>,
    bindings: NodeComponent,
    node: Option<ResourceAny>,
    limits: CallLimits,
    poisoned: bool,
    /// How to make the node afresh; without it, no `process-batch`.
    recreate: Option<Recreate>,
    /// The mean time of an input in the last answers, once measured.
    item_cost: Option<Duration>,
    /// Inputs to give one by one (`process-many`) before batching again:
    /// those of a batch being given again.
    singles: usize,
    /// The node answered a `process-batch` (or `process-packed`) call
    /// against the interface.
    batches_broken: bool,
    /// The buffer packed batches are encoded in, kept between calls.
    packed: Vec<u8>,
}

impl WasmNode {
    /// Instantiate `component` for node `id` under `policy` and create the
    /// node in it.
    pub fn new(
        component: &LoadedComponent,
        id: &str,
        source: WasmSource<'_>,
        params: Value,
        policy: &SandboxPolicy,
    ) -> Result<Self, NodeFailure> {
        let (store, bindings) = instantiate(component, id, policy)?;
        let mut this = WasmNode {
            bindings,
            store,
            node: None,
            limits: CallLimits::new(policy, ""),
            poisoned: false,
            recreate: None,
            item_cost: None,
            singles: 0,
            batches_broken: false,
            packed: Vec::new(),
        };
        let init = policy.init_timeout;
        let runtime = this.bindings.nodehost_node_runtime();
        let (type_name, origin) = match source {
            WasmSource::Python { filename, source, class } => {
                arm(&mut this.store, None, init);
                let types = runtime
                    .call_load_module(&mut this.store, filename, source)
                    .map_err(|e| classify(&this.store, e, init, policy.fuel))?
                    .map_err(|e| guest_failure(e, &this.limits))?;
                // The class refusals name: the one given ("pkg.mod:Class"
                // names Class), or the module's only one.
                let named = class.rsplit(':').next().unwrap_or(class);
                let origin = match (named, &types[..]) {
                    ("", [only]) => only.name.clone(),
                    ("", _) => "node".to_owned(),
                    (named, _) => named.to_owned(),
                };
                (class, origin)
            }
            WasmSource::NodeType(name) => (name, name.to_owned()),
        };
        this.limits = CallLimits::new(policy, &origin);
        let params = codec::to_wit_as(params, this.store.data().value_forms).map_err(NodeFailure::Guest)?;
        arm(&mut this.store, None, init);
        let node = runtime
            .call_create(&mut this.store, type_name, &params)
            .map_err(|e| classify(&this.store, e, init, policy.fuel))?
            .map_err(|e| guest_failure(e, &this.limits))?;
        this.node = Some(node);
        Ok(this)
    }

    /// Let the node answer batches in one crossing (`process-batch`), making
    /// itself afresh with `recreate` when a batch loses its instance.
    #[must_use]
    pub fn with_recreate(mut self, recreate: Recreate) -> Self {
        self.recreate = Some(recreate);
        self
    }

    /// Whether the next inputs go as one `process-batch`, and how many.
    fn batch_size(&self, ready: usize, budget: Duration) -> Option<usize> {
        let cost = self.item_cost?;
        let batchable = ready >= 2
            && self.singles == 0
            && !self.batches_broken
            && self.recreate.is_some()
            && self.limits.fuel.is_none()
            && cost < BATCH_ITEM_COST;
        let fits = budget.as_nanos() / cost.as_nanos().max(1);
        batchable.then(|| usize::try_from(fits).unwrap_or(usize::MAX).clamp(2, ready))
    }

    /// Answer up to `n` inputs from the front of `inputs` in one
    /// `process-batch` call (see [Batches](WasmNode#batches)).
    fn process_batch(&mut self, node: ResourceAny, n: usize, inputs: &mut VecDeque<Value>, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        let forms = self.store.data().value_forms;
        let from = answers.len();
        let mut batch = Vec::with_capacity(n);
        // A list or map that cannot be sent fails alone: it is kept, to be
        // given again at the front of the batch after this one.
        let mut unsendable = None;
        while batch.len() < n {
            let Some(input) = inputs.pop_front() else { break };
            let kept = matches!(input, Value::List(_) | Value::Map(_)).then(|| input.clone());
            match codec::to_wit_as(input, forms) {
                Ok(v) => batch.push(v),
                Err(e) if batch.is_empty() => return answers.push(ItemAnswer::failed(NodeFailure::Guest(e))),
                Err(_) => {
                    unsendable = kept;
                    break;
                }
            }
        }
        if let Some(input) = unsendable {
            inputs.push_front(input);
        }
        if let Err(failure) = self.start_call() {
            give_back(batch.into_iter().map(own), inputs);
            return fail_first(failure, inputs, answers);
        }
        self.store.data().log.widen_call_budget(batch.len());
        let started = Instant::now();
        let result = self.bindings.nodehost_node_runtime().node().call_process_batch(&mut self.store, node, &batch);
        let elapsed = started.elapsed();
        let given = batch.len();
        let mut got = match result {
            Ok(got) => got,
            Err(e) => {
                self.poisoned = true;
                let failure = classify(&self.store, e, self.limits.timeout, self.limits.fuel);
                give_back(batch.into_iter().map(own), inputs);
                return self.lost_batch(failure, given, inputs, answers);
            }
        };
        if got.is_empty() || got.len() > given {
            // It may keep to `process-many`: that is all it gets from now on.
            self.batches_broken = true;
            let why = if got.is_empty() { "answered none of its inputs" } else { "gave more answers than it had inputs" };
            let failure = NodeFailure::BrokeInterface(format!("process-batch {why} ({} answers to {given})", got.len()));
            if let Some(staging) = self.store.data().staging() {
                staging.discard();
            }
            give_back(batch.into_iter().map(own), inputs);
            return fail_first(failure, inputs, answers);
        }
        // The inputs it left, for the next call (it stops at a failure).
        give_back(batch.drain(got.len()..).map(own), inputs);
        if let Some(staging) = self.store.data().staging()
            && let Err(failure) = staging.resolve_batch(&mut got)
        {
            // Which answer's bytes are which cannot be told: none is taken.
            self.batches_broken = true;
            answers.push(ItemAnswer::failed(failure));
            for _ in 1..got.len() {
                let why = "answered in a process-batch call whose staged bytes did not add up (see the batch's first input)";
                answers.push(ItemAnswer::failed(NodeFailure::InvalidValue(why.into())));
            }
            return;
        }
        let last = got.pop().expect("one answer at least");
        let each = elapsed / u32::try_from(given).unwrap_or(u32::MAX);
        // (An answer the host refuses, past a size limit, fails alone: the
        // node has answered the inputs after it already.)
        for answer in got {
            let before = out.len();
            let result = take_answer(answer, &self.limits, "process", None, out);
            answers.push(ItemAnswer::new(out.len() - before, result, each));
        }
        let before = out.len();
        let result = take_answer(last, &self.limits, "process", None, out);
        let last = ItemAnswer::new(out.len() - before, result, each);
        if self.end_batch(last, given > 1, from, answers) {
            give_back(batch.pop().map(own), inputs);
        }
    }

    /// Answer up to `n` inputs from the front of `inputs` in one
    /// `process-packed` call: [`process_batch`](Self::process_batch) with
    /// the inputs and the answers as blocks of packed values, one copy
    /// each way.
    fn process_packed(&mut self, node: ResourceAny, n: usize, inputs: &mut VecDeque<Value>, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        // The inputs stay at the front of `inputs` until answered: encoded
        // where they are, taken off only once the node has answered them.
        let from = answers.len();
        let mut bytes = std::mem::take(&mut self.packed);
        bytes.clear();
        let mut given = 0;
        for input in inputs.iter().take(n) {
            let start = bytes.len();
            if let Err(e) = packed::encode(input, &mut bytes) {
                bytes.truncate(start);
                if given == 0 {
                    self.packed = bytes;
                    inputs.pop_front();
                    return answers.push(ItemAnswer::failed(NodeFailure::Guest(e)));
                }
                // It fails alone, at the front of the next batch.
                break;
            }
            given += 1;
        }
        if let Err(failure) = self.start_call() {
            self.packed = bytes;
            return fail_first(failure, inputs, answers);
        }
        self.store.data().log.widen_call_budget(given);
        let started = Instant::now();
        let result = self.bindings.nodehost_node_runtime().node().call_process_packed(&mut self.store, node, &bytes);
        let elapsed = started.elapsed();
        self.packed = bytes;
        let got = match result {
            Ok(got) => got,
            Err(e) => {
                self.poisoned = true;
                let failure = classify(&self.store, e, self.limits.timeout, self.limits.fuel);
                return self.lost_batch(failure, given, inputs, answers);
            }
        };
        let failed = got.failure.is_some();
        let staging = self.store.data().staging();
        // Answers that name no staged bytes: what was written is text.
        let unnamed = || {
            if let Some(staging) = staging {
                staging.end_unnamed(failed);
            }
        };
        let passed = match got.passed {
            types::PackedBytes::Raw(bytes) => {
                unnamed();
                Ok(bytes)
            }
            types::PackedBytes::Latin1(text) => {
                unnamed();
                nodehost_sdk::codec::latin1_into_bytes(text).map_err(|e| NodeFailure::InvalidValue(format!("packed answers: {}", e.message)))
            }
            types::PackedBytes::Staged(range) => match staging {
                Some(staging) => staging.resolve_packed(range),
                None => Err(NodeFailure::InvalidValue("packed answers name staged bytes, which the component did not ask for".into())),
            },
        };
        let each = elapsed / u32::try_from(given).unwrap_or(u32::MAX);
        let taken = match passed.and_then(|passed| take_packed_answers(&passed, failed, given, &self.limits, each, out, answers)) {
            Ok(taken) => taken,
            Err(failure) => {
                // Which answer is whose cannot be told: none is taken, the
                // first input fails, and the node keeps to `process-many`
                // from now on (as for a broken `process-batch`).
                self.batches_broken = true;
                return fail_first(failure, inputs, answers);
            }
        };
        let answered = match got.failure {
            Some(e) => {
                let last = ItemAnswer::new(0, Err(guest_failure(e, &self.limits)), each);
                let again = self.end_batch(last, given > 1, from, answers);
                taken + usize::from(!again)
            }
            None => {
                self.measure(&answers[from..], each);
                taken
            }
        };
        inputs.drain(..answered);
    }

    /// The node's cost per input, from a batch's answers: none while they
    /// fail (a node whose inputs fail is not batched until they pass).
    fn measure(&mut self, answered: &[ItemAnswer], each: Duration) {
        let failed = answered.iter().any(|a| a.result.is_err());
        self.item_cost = (!failed).then_some(each);
    }

    /// The last answer of a batch of several: an input the batch's time ran
    /// out on may be quick on its own, and is to be given again alone (the
    /// answer is dropped and `true` returned); any other answer is taken,
    /// and the node's cost per input measured from the batch's answers
    /// (none while they fail).
    fn end_batch(&mut self, last: ItemAnswer, several: bool, from: usize, answers: &mut Vec<ItemAnswer>) -> bool {
        let interrupted = last
            .result
            .as_ref()
            .is_err_and(|f| matches!(**f, NodeFailure::Interrupted { .. } | NodeFailure::TimeoutInterrupted { .. }));
        if interrupted && several {
            self.singles = 1;
            return true;
        }
        let each = last.elapsed;
        answers.push(last);
        self.measure(&answers[from..], each);
        false
    }

    /// A batch call trapped with `failure`: its answers are gone with the
    /// instance. Make the node afresh to take the batch's `n` inputs (still
    /// at the front of `inputs`) again one by one; without a fresh node, the
    /// first input fails.
    fn lost_batch(&mut self, failure: NodeFailure, n: usize, inputs: &mut VecDeque<Value>, answers: &mut Vec<ItemAnswer>) {
        let cancelled = matches!(failure, NodeFailure::Cancelled);
        let fresh = match (&self.recreate, cancelled) {
            (Some(recreate), false) => Some(recreate()),
            _ => None,
        };
        match fresh {
            Some(Ok(mut fresh)) => {
                // Whoever can cancel this node's calls can cancel the fresh one's.
                fresh.store.data_mut().cancel = self.store.data().cancel.clone();
                tracing::warn!(
                    node = self.store.data().log.node(),
                    "a batch of {n} inputs lost the node's instance ({failure}); a fresh instance takes them again, one by one"
                );
                let recreate = self.recreate.take();
                drop(std::mem::replace(self, fresh));
                self.recreate = recreate;
                self.singles = n;
            }
            not_made => {
                if let Some(Err(e)) = not_made {
                    tracing::warn!(node = self.store.data().log.node(), "making the node afresh failed: {e}");
                }
                fail_first(failure, inputs, answers);
            }
        }
    }

    /// Arm the deadlines and fuel for one call.
    fn start_call(&mut self) -> Result<(), NodeFailure> {
        start_call(&mut self.store, &self.limits)
    }

    fn call(
        &mut self,
        method: &str,
        f: impl FnOnce(&NodeComponent, &mut Store<HostState>, ResourceAny) -> wasmtime::Result<Result<types::Outputs, types::NodeError>>,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeFailure> {
        let (false, Some(node)) = (self.poisoned, self.node) else {
            return Err(NodeFailure::Poisoned);
        };
        self.start_call()?;
        match f(&self.bindings, &mut self.store, node) {
            Ok(answer) => take_answer(answer, &self.limits, method, self.store.data().staging(), out),
            Err(e) => {
                self.poisoned = true;
                Err(classify(&self.store, e, self.limits.timeout, self.limits.fuel))
            }
        }
    }
}

/// Whether `value` is a scalar, text or bytes (no list, map, audio or array).
fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::List(_) | Value::Map(_) | Value::Audio(_) | Value::Array(_))
}

/// Answer the first of `inputs` with `failure`, taking it off.
fn fail_first(failure: NodeFailure, inputs: &mut VecDeque<Value>, answers: &mut Vec<ItemAnswer>) {
    inputs.pop_front();
    answers.push(ItemAnswer::failed(failure));
}

/// Put `batch`'s inputs back at the front of `inputs`, in their order.
fn give_back(batch: impl IntoIterator<Item = Value>, inputs: &mut VecDeque<Value>) {
    let back: Vec<Value> = batch.into_iter().collect();
    for v in back.into_iter().rev() {
        inputs.push_front(v);
    }
}

/// An input the host encoded, back as it was.
fn own(v: types::Value) -> Value {
    codec::from_wit(v).expect("the host's own encoding decodes")
}

impl Node for WasmNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        let input = codec::to_wit_as(input, self.store.data().value_forms).map_err(NodeFailure::Guest)?;
        self.call("process", |b, store, node| b.nodehost_node_runtime().node().call_process(store, node, &input), out)
    }

    fn process_many(&mut self, inputs: &mut VecDeque<Value>, budget: Duration, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        if let (false, Some(node)) = (self.poisoned, self.node)
            && let Some(n) = self.batch_size(inputs.len(), budget)
        {
            let forms = self.store.data().value_forms;
            if forms.packed_batches && !forms.python_marshal {
                return self.process_packed(node, n, inputs, out, answers);
            }
            // Packed for plain inputs only: lists and maps go as marshal
            // data, audio and arrays as packed buffers (see `value-forms`).
            let plain = if forms.packed_batches { inputs.iter().take(n).take_while(|v| is_plain(v)).count() } else { 0 };
            if plain > 0 {
                return self.process_packed(node, plain, inputs, out, answers);
            }
            return self.process_batch(node, n, inputs, out, answers);
        }
        let from = answers.len();
        self.process_each(inputs, budget, out, answers);
        let answered = &answers[from..];
        if !answered.is_empty() {
            self.singles = self.singles.saturating_sub(answered.len());
            let total: Duration = answered.iter().map(|a| a.elapsed).sum();
            let failed = answered.iter().any(|a| a.result.is_err());
            // A node whose inputs fail goes on one input per crossing until
            // they pass again, each failure its own call's.
            self.item_cost = (!failed).then(|| total / u32::try_from(answered.len()).unwrap_or(u32::MAX));
        }
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call("flush", |b, store, node| b.nodehost_node_runtime().node().call_flush(store, node), out)
    }

    fn cancel_handle(&self) -> Option<CancelHandle> {
        Some(self.store.data().cancel.clone())
    }
}

impl WasmNode {
    /// [`Node::process_many`] one input per crossing (`process-many`).
    fn process_each(&mut self, inputs: &mut VecDeque<Value>, budget: Duration, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        let Some(first) = inputs.pop_front() else {
            return;
        };
        if inputs.is_empty() {
            // One input (the usual case at low load): a plain `process`
            // call, which crosses the boundary once instead of twice.
            let (before, started) = (out.len(), Instant::now());
            let result = self.process(first, out);
            return answers.push(ItemAnswer::new(out.len() - before, result, started.elapsed()));
        }
        let (false, Some(node)) = (self.poisoned, self.node) else {
            answers.push(ItemAnswer::failed(NodeFailure::Poisoned));
            return;
        };
        let first = match codec::to_wit_as(first, self.store.data().value_forms) {
            Ok(first) => first,
            Err(e) => return answers.push(ItemAnswer::failed(NodeFailure::Guest(e))),
        };
        if let Err(failure) = self.start_call() {
            return answers.push(ItemAnswer::failed(failure));
        }
        let batch = &mut self.store.data_mut().batch;
        std::mem::swap(&mut batch.inputs, inputs);
        batch.begin(&self.limits, budget);
        let result = self.bindings.nodehost_node_runtime().node().call_process_many(&mut self.store, node, &first);
        let batch = &mut self.store.data_mut().batch;
        std::mem::swap(&mut batch.inputs, inputs);
        let unanswered = std::mem::take(&mut batch.open);
        out.append(&mut batch.out);
        answers.append(&mut batch.answers);
        match result {
            Ok(()) if unanswered => answers.push(ItemAnswer::failed(NodeFailure::BrokeInterface(
                "process-many returned without answering its input".into(),
            ))),
            Ok(()) => {}
            Err(e) => {
                self.poisoned = true;
                let failure = classify(&self.store, e, self.limits.timeout, self.limits.fuel);
                // The input the node had when it trapped fails; if it had
                // answered them all, the trap is the last one's.
                match answers.last_mut().filter(|_| !unanswered) {
                    Some(last) if last.result.is_ok() => {
                        out.truncate(out.len() - last.outputs);
                        last.outputs = 0;
                        last.result = Err(Box::new(failure));
                    }
                    _ => answers.push(ItemAnswer::failed(failure)),
                }
            }
        }
    }

}

impl Drop for WasmNode {
    fn drop(&mut self) {
        // Close the node (a Python node's cleanup() runs), then drop it,
        // each under a call's deadlines, unless the instance is already
        // lost.
        if let (false, Some(node)) = (self.poisoned, self.node.take()) {
            let closed = self.start_call().is_ok()
                && match self.bindings.nodehost_node_runtime().node().call_close(&mut self.store, node) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(node = self.store.data().log.node(), "closing the node failed: {e:#}");
                        false
                    }
                };
            if closed
                && self.start_call().is_ok()
                && let Err(e) = node.resource_drop(&mut self.store)
            {
                tracing::warn!(node = self.store.data().log.node(), "dropping the node failed: {e:#}");
            }
            self.store.data().log.start_call();
        }
    }
}

