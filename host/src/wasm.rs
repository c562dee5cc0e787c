//! [`WasmNode`]: a node inside a Wasm component, one [`Store`] per node
//! instance, with the sandbox policy applied: memory limit, CPU deadline,
//! no WASI capabilities (files, env, network, stdin), bounded log output.

use std::sync::Arc;

use bytes::Bytes;
use nodehost_sdk::log::Level;
use nodehost_sdk::Value;
use wasmtime::component::{HasSelf, Linker, ResourceAny, ResourceTable};
use wasmtime::{ResourceLimiter, Store, Trap, WasmBacktrace};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{NodeComponent, host, types};
use crate::engine::{EPOCH_TICK, LoadedComponent};
use crate::error::{GuestError, NodeFailure};
use crate::guest_log::{GuestLog, Stream};
use crate::node::Node;
use crate::policy::SandboxPolicy;
use crate::value_table;

/// The data of one node's [`Store`].
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    log: Arc<GuestLog>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: host::LogLevel, target: String, message: String) {
        let level = match level {
            host::LogLevel::Trace => Level::Trace,
            host::LogLevel::Debug => Level::Debug,
            host::LogLevel::Info => Level::Info,
            host::LogLevel::Warn => Level::Warn,
            host::LogLevel::Error => Level::Error,
        };
        self.log.emit(level, &target, &message);
    }
}

/// Everything a node component may import: WASI (with an empty context, so
/// no capability is reachable) and the host's `log`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    NodeComponent::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}

/// Refuses memory growth past the policy's limit and remembers that it did,
/// so the trap that follows is reported as out of memory.
struct MemoryLimiter {
    limit: u64,
    hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let ok = desired as u64 <= self.limit;
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// A guest's stdout or stderr: whole lines go to the node's log.
#[derive(Clone)]
struct GuestStream {
    log: Arc<GuestLog>,
    stream: Stream,
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
        self.log.write_stream(self.stream, &bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

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
    deadline_ticks: u64,
    timeout: std::time::Duration,
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
        let mut this = WasmNode {
            bindings,
            store,
            node: None,
            deadline_ticks: ticks(policy.timeout),
            timeout: policy.timeout,
            poisoned: false,
        };
        let init = policy.init_timeout;
        let runtime = this.bindings.nodehost_node_runtime();
        let type_name = match source {
            WasmSource::Python { filename, source, class } => {
                this.store.data().log.start_call();
                runtime
                    .call_load_module(&mut this.store, filename, source)
                    .map_err(|e| classify(&this.store, e, init))?
                    .map_err(guest_error)?;
                class
            }
            WasmSource::NodeType(name) => name,
        };
        let params = value_table::to_wit(params).map_err(guest_error_sdk)?;
        this.store.set_epoch_deadline(ticks(init));
        this.store.data().log.start_call();
        let node = runtime
            .call_create(&mut this.store, type_name, &params)
            .map_err(|e| classify(&this.store, e, init))?
            .map_err(guest_error)?;
        this.node = Some(node);
        Ok(this)
    }

    fn call(
        &mut self,
        f: impl FnOnce(&NodeComponent, &mut Store<HostState>, ResourceAny) -> wasmtime::Result<Result<types::Outputs, types::NodeError>>,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeFailure> {
        let node = match (self.poisoned, self.node) {
            (false, Some(node)) => node,
            _ => return Err(NodeFailure::Poisoned),
        };
        self.store.set_epoch_deadline(self.deadline_ticks);
        self.store.data().log.start_call();
        match f(&self.bindings, &mut self.store, node) {
            Ok(Ok(outputs)) => value_table::outputs_from_wit(outputs, out).map_err(|e| {
                NodeFailure::Guest(GuestError::unsupported_value(format!("the node sent back a malformed value: {}", e.message)))
            }),
            Ok(Err(e)) => Err(guest_error(e)),
            Err(e) => {
                self.poisoned = true;
                Err(classify(&self.store, e, self.timeout))
            }
        }
    }
}

impl Node for WasmNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        let input = value_table::to_wit(input).map_err(guest_error_sdk)?;
        self.call(|b, store, node| b.nodehost_node_runtime().node().call_process(store, node, &input), out)
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(|b, store, node| b.nodehost_node_runtime().node().call_flush(store, node), out)
    }
}

impl Drop for WasmNode {
    fn drop(&mut self) {
        // Run the guest's destructor (a Python node's cleanup()) unless the
        // instance is already lost.
        if let (false, Some(node)) = (self.poisoned, self.node.take()) {
            self.store.set_epoch_deadline(self.deadline_ticks);
            if let Err(e) = node.resource_drop(&mut self.store) {
                tracing::warn!(node = self.store.data().log.node(), "dropping the node failed: {e:#}");
            }
            self.store.data().log.start_call();
        }
    }
}

/// Epoch ticks for a deadline of `d` (at least one full tick).
fn ticks(d: std::time::Duration) -> u64 {
    (d.as_nanos() / EPOCH_TICK.as_nanos()).max(1) as u64 + 1
}

/// A fresh store for node `id` under `policy`, with `component` instantiated
/// in it. Nothing is granted: no preopened directories, no environment, no
/// arguments, no network, and stdin is empty.
pub(crate) fn instantiate(
    component: &LoadedComponent,
    id: &str,
    policy: &SandboxPolicy,
) -> Result<(Store<HostState>, NodeComponent), NodeFailure> {
    let log = GuestLog::new(id, policy.max_log_bytes);
    let wasi = WasiCtxBuilder::new()
        .stdout(GuestStream { log: Arc::clone(&log), stream: Stream::Stdout })
        .stderr(GuestStream { log: Arc::clone(&log), stream: Stream::Stderr })
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = HostState {
        wasi,
        table: ResourceTable::new(),
        limiter: MemoryLimiter { limit: policy.memory, hit: false },
        log,
    };
    let mut store = Store::new(component.pre.engine(), state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(ticks(policy.init_timeout));
    let bindings = component.pre.instantiate(&mut store).map_err(|e| classify(&store, e, policy.init_timeout))?;
    Ok((store, bindings))
}

/// The node types a component describes: those built in, or, for the
/// Python component given a module's source, those the module defines.
pub(crate) fn describe(
    component: &LoadedComponent,
    python: Option<(&str, &str)>,
) -> Result<Vec<nodehost_sdk::NodeTypeInfo>, NodeFailure> {
    let policy = SandboxPolicy::default();
    let (mut store, bindings) = instantiate(component, "describe", &policy)?;
    let runtime = bindings.nodehost_node_runtime();
    let infos = match python {
        Some((filename, source)) => runtime
            .call_load_module(&mut store, filename, source)
            .map_err(|e| classify(&store, e, policy.init_timeout))?
            .map_err(guest_error)?,
        None => runtime.call_node_types(&mut store).map_err(|e| classify(&store, e, policy.init_timeout))?,
    };
    Ok(infos.into_iter().map(value_table::type_info_from_wit).collect())
}

fn guest_error(e: types::NodeError) -> NodeFailure {
    NodeFailure::Guest(value_table::error_from_wit(e))
}

fn guest_error_sdk(e: nodehost_sdk::NodeError) -> NodeFailure {
    NodeFailure::Guest(e)
}

/// Turn a wasmtime error from a call into the failure kind it is.
fn classify(store: &Store<HostState>, e: wasmtime::Error, timeout: std::time::Duration) -> NodeFailure {
    let backtrace = e.downcast_ref::<WasmBacktrace>().map(|bt| format!("{bt}"));
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => NodeFailure::Timeout(timeout),
        Some(Trap::StackOverflow) => NodeFailure::StackOverflow,
        Some(Trap::OutOfFuel) => NodeFailure::OutOfFuel(0),
        _ if store.data().limiter.hit => NodeFailure::OutOfMemory { limit: store.data().limiter.limit },
        Some(trap) => NodeFailure::Trap { message: trap.to_string(), backtrace },
        None => NodeFailure::Trap { message: format!("{e:#}"), backtrace },
    }
}
