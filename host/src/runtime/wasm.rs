//! [`WasmNode`]: a node inside a Wasm component, one store per node
//! instance, with its [`SandboxPolicy`] applied: memory limit, soft and hard
//! CPU deadlines (epoch interruption), optional fuel, bounded outputs and log
//! volume, and only the WASI capabilities the policy grants (by default none:
//! no files, environment, network or stdin). The sandbox itself is in
//! [`crate::sandbox`]; this file is the node on top of it.

use std::time::Duration;

use nodehost_sdk::Value;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::error::{Limit, NodeFailure, SandboxSetup};
use crate::node::Node;
use crate::policy::SandboxPolicy;
use crate::sandbox::bindings::{NodeComponent, types};
use crate::sandbox::codec;
use crate::sandbox::component::{LoadedComponent, instantiate};
use crate::node::CancelHandle;
use crate::sandbox::store::{HostState, arm};
use crate::sandbox::trap::classify;

/// What a [`WasmNode`] is created from.
pub enum WasmSource<'a> {
    /// The Python guest with a node module's source.
    Python { filename: &'a str, source: &'a str, class: &'a str },
    /// A node type a component provides.
    NodeType(&'a str),
}

/// The policy's limits in the units a call needs.
#[derive(Debug, Clone)]
struct CallLimits {
    timeout: Duration,
    soft: Option<Duration>,
    fuel: Option<u64>,
    max_outputs: u32,
    max_output_bytes: u64,
}

impl CallLimits {
    fn new(policy: &SandboxPolicy) -> Self {
        let soft = policy.interruptible.then(|| policy.soft_deadline());
        CallLimits {
            timeout: policy.timeout,
            soft,
            fuel: policy.fuel,
            max_outputs: policy.max_outputs,
            max_output_bytes: policy.max_output_bytes,
        }
    }
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
        let mut this = WasmNode { bindings, store, node: None, limits: CallLimits::new(policy), poisoned: false };
        let init = policy.init_timeout;
        let runtime = this.bindings.nodehost_node_runtime();
        let type_name = match source {
            WasmSource::Python { filename, source, class } => {
                arm(&mut this.store, None, init);
                runtime
                    .call_load_module(&mut this.store, filename, source)
                    .map_err(|e| classify(&this.store, e, init, policy.fuel))?
                    .map_err(|e| guest_failure(e, &this.limits))?;
                class
            }
            WasmSource::NodeType(name) => name,
        };
        let params = codec::to_wit(params).map_err(NodeFailure::Guest)?;
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
        arm(&mut self.store, self.limits.soft, self.limits.timeout);
        if let Some(fuel) = self.limits.fuel {
            self.store.set_fuel(fuel).map_err(|source| NodeFailure::Setup(SandboxSetup::Fuel { source }))?;
        }
        Ok(())
    }

    fn call(
        &mut self,
        f: impl FnOnce(&NodeComponent, &mut Store<HostState>, ResourceAny) -> wasmtime::Result<Result<types::Outputs, types::NodeError>>,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeFailure> {
        let (false, Some(node)) = (self.poisoned, self.node) else {
            return Err(NodeFailure::Poisoned);
        };
        self.start_call()?;
        let start = out.len();
        match f(&self.bindings, &mut self.store, node) {
            Ok(Ok(outputs)) => {
                // Checked before decoding: a packed list of numbers takes
                // several times its size once decoded, so the check must
                // come first to bound what the host holds.
                check_outputs(&outputs, &self.limits)?;
                codec::outputs_from_wit(outputs, out).map_err(|e| {
                    out.truncate(start);
                    NodeFailure::InvalidValue(format!("the node sent back a malformed value: {}", e.message))
                })
            }
            Ok(Err(e)) => Err(guest_failure(e, &self.limits)),
            Err(e) => {
                self.poisoned = true;
                Err(classify(&self.store, e, self.limits.timeout, self.limits.fuel))
            }
        }
    }
}

impl Node for WasmNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        let input = codec::to_wit(input).map_err(NodeFailure::Guest)?;
        self.call(|b, store, node| b.nodehost_node_runtime().node().call_process(store, node, &input), out)
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(|b, store, node| b.nodehost_node_runtime().node().call_flush(store, node), out)
    }

    fn cancel_handle(&self) -> Option<CancelHandle> {
        Some(self.store.data().cancel.clone())
    }
}

impl Drop for WasmNode {
    fn drop(&mut self) {
        // Run the guest's destructor (a Python node's cleanup()) unless the
        // instance is already lost.
        if let (false, Some(node)) = (self.poisoned, self.node.take()) {
            if self.start_call().is_ok()
                && let Err(e) = node.resource_drop(&mut self.store)
            {
                tracing::warn!(node = self.store.data().log.node(), "dropping the node failed: {e:#}");
            }
            self.store.data().log.start_call();
        }
    }
}

/// Fail a call whose outputs break the policy's limits: too many, or one
/// that would take more than `max_output_bytes` of the host's memory once
/// decoded.
fn check_outputs(outputs: &types::Outputs, limits: &CallLimits) -> Result<(), NodeFailure> {
    let values = match outputs {
        types::Outputs::None => return Ok(()),
        types::Outputs::One(v) => std::slice::from_ref(v),
        types::Outputs::Many(vs) => vs.as_slice(),
    };
    if values.len() > limits.max_outputs as usize {
        return Err(NodeFailure::LimitExceeded(Limit::Outputs { limit: limits.max_outputs }));
    }
    for v in values {
        if decoded_size(v) > limits.max_output_bytes {
            return Err(NodeFailure::LimitExceeded(Limit::OutputBytes {
                limit: limits.max_output_bytes,
                type_name: wit_type_name(v),
            }));
        }
    }
    Ok(())
}

/// One value slot as the host holds it.
const SLOT: u64 = size_of::<Value>() as u64;

/// Bytes the host holds for `v` once decoded: every value its slot, every
/// payload its length (so a packed list counts a slot per number).
fn decoded_size(v: &types::Value) -> u64 {
    match v {
        types::Value::Text(s) => SLOT + s.len() as u64,
        types::Value::Bytes(b) => SLOT + b.len() as u64,
        types::Value::Audio(a) => SLOT + 4 * a.samples.len() as u64,
        types::Value::Array(a) => SLOT + array_bytes(a),
        types::Value::BigInteger(b) => SLOT + big_int_bytes(b),
        types::Value::Nested(nodes) => nodes.iter().map(node_size).sum(),
        types::Value::Null | types::Value::Boolean(_) | types::Value::Integer(_) | types::Value::Float(_) => SLOT,
    }
}

fn node_size(n: &types::ValueNode) -> u64 {
    match n {
        types::ValueNode::Text(s) => SLOT + s.len() as u64,
        types::ValueNode::Bytes(b) => SLOT + b.len() as u64,
        types::ValueNode::Audio(a) => SLOT + 4 * a.samples.len() as u64,
        types::ValueNode::Array(a) => SLOT + array_bytes(a),
        types::ValueNode::BigInteger(b) => SLOT + big_int_bytes(b),
        types::ValueNode::IntList(v) => SLOT * (1 + v.len() as u64),
        types::ValueNode::FloatList(v) => SLOT * (1 + v.len() as u64),
        types::ValueNode::Map(entries) => {
            SLOT + entries.iter().map(|e| (size_of::<String>() + e.key.len()) as u64).sum::<u64>()
        }
        types::ValueNode::List(_)
        | types::ValueNode::Null
        | types::ValueNode::Boolean(_)
        | types::ValueNode::Integer(_)
        | types::ValueNode::Float(_) => SLOT,
    }
}

/// A big int's magnitude as the host holds it once decoded: in whole
/// 64-bit digits. (Trailing zero bytes, which a careless guest may send,
/// are counted too: the bytes arrive before they are dropped.)
fn big_int_bytes(b: &types::BigInt) -> u64 {
    (b.magnitude.len() as u64).div_ceil(8) * 8
}

fn array_bytes(a: &types::NumArray) -> u64 {
    let data = match &a.data {
        types::ArrayData::F32(v) => 4 * v.len(),
        types::ArrayData::F64(v) => 8 * v.len(),
        types::ArrayData::I64(v) => 8 * v.len(),
    };
    (data + 4 * a.shape.len()) as u64
}

/// The name of the type `v` decodes to, for messages.
fn wit_type_name(v: &types::Value) -> &'static str {
    match v {
        types::Value::Null => "null",
        types::Value::Boolean(_) => "bool",
        types::Value::Integer(_) | types::Value::BigInteger(_) => "int",
        types::Value::Float(_) => "float",
        types::Value::Text(_) => "str",
        types::Value::Bytes(_) => "bytes",
        types::Value::Audio(_) => "audio",
        types::Value::Array(_) => "array",
        types::Value::Nested(nodes) => match nodes.first() {
            Some(types::ValueNode::Map(_)) => "map",
            _ => "list",
        },
    }
}

/// A guest's own error, as the failure kind it is.
fn guest_failure(e: types::NodeError, limits: &CallLimits) -> NodeFailure {
    NodeFailure::from_guest(codec::error_from_wit(e), limits.soft.unwrap_or(limits.timeout))
}
