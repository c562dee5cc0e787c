//! [`WasmNode`]: a node inside a Wasm component, one store per node
//! instance, with its [`SandboxPolicy`] applied: memory limit, soft and hard
//! CPU deadlines (epoch interruption), optional fuel, bounded outputs and log
//! volume, and only the WASI capabilities the policy grants (by default none:
//! no files, environment, network or stdin). The sandbox itself is in
//! [`crate::sandbox`]; this file is the node on top of it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::error::NodeFailure;
use crate::node::{ItemAnswer, Node};
use crate::policy::SandboxPolicy;
use crate::sandbox::bindings::{NodeComponent, types};
use crate::sandbox::codec;
use crate::sandbox::component::{LoadedComponent, instantiate};
use crate::node::CancelHandle;
use crate::sandbox::call::{CallLimits, guest_failure, start_call, take_answer};
use crate::sandbox::store::{HostState, arm};
use crate::sandbox::trap::classify;

/// What a [`WasmNode`] is created from.
pub enum WasmSource<'a> {
    /// The Python guest with a node module's source.
    Python { filename: &'a str, source: &'a str, class: &'a str },
    /// A node type a component provides.
    NodeType(&'a str),
}

/// A node running inside a Wasm component, in its own store.
pub struct WasmNode {
    store: Store<HostState>,
    bindings: NodeComponent,
    node: Option<ResourceAny>,
    limits: CallLimits,
    poisoned: bool,
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
        let mut this = WasmNode { bindings, store, node: None, limits: CallLimits::new(policy, ""), poisoned: false };
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

impl Node for WasmNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        let input = codec::to_wit_as(input, self.store.data().value_forms).map_err(NodeFailure::Guest)?;
        self.call("process", |b, store, node| b.nodehost_node_runtime().node().call_process(store, node, &input), out)
    }

    fn process_many(&mut self, inputs: &mut VecDeque<Value>, budget: Duration, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
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

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call("flush", |b, store, node| b.nodehost_node_runtime().node().call_flush(store, node), out)
    }

    fn cancel_handle(&self) -> Option<CancelHandle> {
        Some(self.store.data().cancel.clone())
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

