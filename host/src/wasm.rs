//! [`WasmNode`]: a node inside a Wasm component, one [`Store`] per node
//! instance, with its [`SandboxPolicy`] applied: memory limit, soft and hard
//! CPU deadlines (epoch interruption), optional fuel, bounded outputs and log
//! volume, and only the WASI capabilities the policy grants (by default none:
//! no files, environment, network or stdin).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nodehost_sdk::log::Level;
use nodehost_sdk::Value;
use wasmtime::StoreContextMut;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceAny, ResourceTable};
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{NodeComponent, host, types};
use crate::engine::{EPOCH_TICK, LoadedComponent};
use crate::error::NodeFailure;
use crate::guest_log::{GuestLog, Stream};
use crate::node::Node;
use crate::policy::SandboxPolicy;
use crate::value_table;

/// Where the running call is with respect to its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the soft deadline (or no soft deadline: straight to hard).
    Running,
    /// Past the soft deadline: the guest has been asked to stop.
    Interrupting,
}

/// The data of one node's [`Store`].
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    log: Arc<GuestLog>,
    phase: Phase,
    /// Epoch ticks from the soft deadline to the hard one, when the node is
    /// interruptible.
    grace_ticks: Option<u64>,
    /// The guest's monotonic clock (WASI's `monotonic-clock`).
    clock: MonotonicClock,
    /// When the running call's hard deadline passes: sleeps end there.
    hard_deadline: std::time::Instant,
}

/// WASI's monotonic clock for one node: nanoseconds since the node's store
/// was created.
#[derive(Clone, Copy)]
struct MonotonicClock {
    start: std::time::Instant,
}

impl wasmtime_wasi::HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// A sleep a guest asked for, cut short at its call's hard deadline.
struct Sleep(tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Sleep {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

impl HostState {
    /// A pollable that is ready after `duration`. A sleep that would end past
    /// the call's hard deadline is a timeout at once: a node cannot sleep its
    /// way past its deadline, where epoch interruption cannot reach it.
    fn sleep(&mut self, duration: Duration) -> wasmtime::Result<Resource<DynPollable>> {
        let left = self.hard_deadline.saturating_duration_since(std::time::Instant::now());
        if duration > left && duration > EPOCH_TICK {
            // It would wake up past the deadline: that is a timeout now.
            return Err(wasmtime::Error::new(Trap::Interrupt));
        }
        let sleep = self.table.push(Sleep(tokio::time::Instant::now() + duration.min(left)))?;
        wasmtime_wasi::p2::subscribe(&mut self.table, sleep)
    }
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

    fn interrupt_requested(&mut self) -> bool {
        self.phase == Phase::Interrupting
    }
}

/// Everything a node component may import: WASI (whose context grants only
/// what the policy names, and whose sleeps end at the call's deadline) and
/// the host's `log` and `interrupt-requested`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    NodeComponent::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    // Replace WASI's timers with ones that stop at the deadline: a blocking
    // sleep runs in host code, where epoch interruption cannot reach it.
    linker.allow_shadowing(true);
    let mut clocks = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    clocks.func_wrap("subscribe-duration", |mut store: StoreContextMut<'_, HostState>, (nanos,): (u64,)| {
        Ok((store.data_mut().sleep(Duration::from_nanos(nanos))?,))
    })?;
    clocks.func_wrap("subscribe-instant", |mut store: StoreContextMut<'_, HostState>, (when,): (u64,)| {
        let state = store.data_mut();
        let now = wasmtime_wasi::HostMonotonicClock::now(&state.clock);
        Ok((state.sleep(Duration::from_nanos(when.saturating_sub(now)))?,))
    })?;
    linker.allow_shadowing(false);
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

/// The policy's limits in the units a call needs.
#[derive(Debug, Clone)]
struct CallLimits {
    timeout: Duration,
    soft: Option<Duration>,
    /// Ticks to the first deadline of a call (soft when interruptible, else hard).
    first_ticks: u64,
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
            first_ticks: ticks(soft.unwrap_or(policy.timeout)),
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
                arm_init(&mut this.store, init);
                runtime
                    .call_load_module(&mut this.store, filename, source)
                    .map_err(|e| classify(&this.store, e, init, policy.fuel))?
                    .map_err(|e| guest_failure(e, &this.limits))?;
                class
            }
            WasmSource::NodeType(name) => name,
        };
        let params = value_table::to_wit(params).map_err(NodeFailure::Guest)?;
        arm_init(&mut this.store, init);
        let node = runtime
            .call_create(&mut this.store, type_name, &params)
            .map_err(|e| classify(&this.store, e, init, policy.fuel))?
            .map_err(|e| guest_failure(e, &this.limits))?;
        this.node = Some(node);
        Ok(this)
    }

    /// Arm the deadlines and fuel for one call.
    fn start_call(&mut self) -> Result<(), NodeFailure> {
        let data = self.store.data_mut();
        data.phase = Phase::Running;
        data.hard_deadline = std::time::Instant::now() + self.limits.timeout;
        data.log.start_call();
        self.store.set_epoch_deadline(self.limits.first_ticks);
        if let Some(fuel) = self.limits.fuel {
            self.store.set_fuel(fuel).map_err(|e| NodeFailure::Host(format!("setting fuel: {e}")))?;
        }
        Ok(())
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
        self.start_call()?;
        let start = out.len();
        match f(&self.bindings, &mut self.store, node) {
            Ok(Ok(outputs)) => {
                value_table::outputs_from_wit(outputs, out).map_err(|e| {
                    out.truncate(start);
                    NodeFailure::InvalidValue(format!("the node sent back a malformed value: {}", e.message))
                })?;
                check_outputs(&out[start..], &self.limits).inspect_err(|_| out.truncate(start))
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
        let input = value_table::to_wit(input).map_err(NodeFailure::Guest)?;
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
            if self.start_call().is_ok() {
                if let Err(e) = node.resource_drop(&mut self.store) {
                    tracing::warn!(node = self.store.data().log.node(), "dropping the node failed: {e:#}");
                }
            }
            self.store.data().log.start_call();
        }
    }
}

/// Fail a call whose outputs break the policy's limits.
fn check_outputs(outputs: &[Value], limits: &CallLimits) -> Result<(), NodeFailure> {
    if outputs.len() > limits.max_outputs as usize {
        return Err(NodeFailure::LimitExceeded(format!(
            "the node gave {} outputs for one input; the limit is {}",
            outputs.len(),
            limits.max_outputs
        )));
    }
    for v in outputs {
        let size = value_size(v, limits.max_output_bytes);
        if size > limits.max_output_bytes {
            return Err(NodeFailure::LimitExceeded(format!(
                "an output of more than {} bytes ({}); the limit is {} bytes",
                limits.max_output_bytes,
                v.type_name(),
                limits.max_output_bytes
            )));
        }
    }
    Ok(())
}

/// A value's size in bytes (payloads by their length, every part 8 bytes
/// more); stops counting past `limit`.
fn value_size(v: &Value, limit: u64) -> u64 {
    let own = match v {
        Value::Str(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        Value::Audio(a) => 4 * a.samples.len() as u64,
        Value::Array(a) => 8 * a.data.len() as u64 + 4 * a.shape.len() as u64,
        _ => 0,
    };
    let mut total = 8 + own;
    let children: Box<dyn Iterator<Item = (u64, &Value)>> = match v {
        Value::List(items) => Box::new(items.iter().map(|i| (0, i))),
        Value::Map(m) => Box::new(m.iter().map(|(k, i)| (k.len() as u64, i))),
        _ => return total,
    };
    for (key, child) in children {
        total += key + value_size(child, limit);
        if total > limit {
            break;
        }
    }
    total
}

/// A guest's own error, as the failure kind it is.
fn guest_failure(e: types::NodeError, limits: &CallLimits) -> NodeFailure {
    NodeFailure::from_guest(value_table::error_from_wit(e), limits.soft.unwrap_or(limits.timeout))
}

/// Arm the deadlines for one step of creating a node (loading its module,
/// running its constructor), each with the whole `init` budget.
fn arm_init(store: &mut Store<HostState>, init: Duration) {
    let data = store.data_mut();
    data.phase = Phase::Running;
    data.hard_deadline = std::time::Instant::now() + init;
    data.log.start_call();
    store.set_epoch_deadline(ticks(init));
}

/// Epoch ticks for a deadline of `d` (at least one full tick).
fn ticks(d: Duration) -> u64 {
    (d.as_nanos() / EPOCH_TICK.as_nanos()).max(1) as u64 + 1
}

/// A fresh store for node `id` under `policy`, with `component` instantiated
/// in it and configured.
pub(crate) fn instantiate(
    component: &LoadedComponent,
    id: &str,
    policy: &SandboxPolicy,
) -> Result<(Store<HostState>, NodeComponent), NodeFailure> {
    let mut store = new_store(component.pre.engine(), id, policy)?;
    let bindings = component
        .pre
        .instantiate(&mut store)
        .map_err(|e| classify(&store, e, policy.init_timeout, policy.fuel))?;
    configure(&mut store, &bindings, policy)?;
    Ok((store, bindings))
}

/// Give a new instance the policy's settings.
pub(crate) fn configure(store: &mut Store<HostState>, bindings: &NodeComponent, policy: &SandboxPolicy) -> Result<(), NodeFailure> {
    let settings = types::Settings { max_outputs: policy.max_outputs, interruptible: policy.interruptible };
    bindings
        .nodehost_node_runtime()
        .call_configure(&mut *store, settings)
        .map_err(|e| classify(store, e, policy.init_timeout, policy.fuel))
}

/// A fresh store on `engine` for node `id` under `policy`. Its WASI context
/// grants only the policy's directories and environment variables: no
/// arguments, no network, an empty stdin.
pub(crate) fn new_store(engine: &wasmtime::Engine, id: &str, policy: &SandboxPolicy) -> Result<Store<HostState>, NodeFailure> {
    let log = GuestLog::new(id, policy.max_log_bytes);
    let clock = MonotonicClock { start: std::time::Instant::now() };
    let mut wasi = WasiCtxBuilder::new();
    wasi.monotonic_clock(clock)
        .stdout(GuestStream { log: Arc::clone(&log), stream: Stream::Stdout })
        .stderr(GuestStream { log: Arc::clone(&log), stream: Stream::Stderr })
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for dir in &policy.dirs {
        let perms = if dir.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
        wasi.preopened_dir(&dir.host, &dir.guest, perms).map_err(|e| {
            NodeFailure::Host(format!("granting directory {} as {}: {e}", dir.host.display(), dir.guest))
        })?;
    }
    for name in &policy.env {
        if let Ok(value) = std::env::var(name) {
            wasi.env(name, value);
        }
    }
    let limits = CallLimits::new(policy);
    let state = HostState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: MemoryLimiter { limit: policy.memory, hit: false },
        log,
        phase: Phase::Running,
        grace_ticks: limits.soft.map(|soft| ticks(policy.timeout.saturating_sub(soft))),
        clock,
        hard_deadline: std::time::Instant::now() + policy.init_timeout,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    // At the first deadline of an interruptible call, ask the guest to stop
    // and give it until the hard deadline; at the hard deadline, trap.
    store.epoch_deadline_callback(|mut ctx| {
        let data = ctx.data_mut();
        match (data.phase, data.grace_ticks) {
            (Phase::Running, Some(grace)) => {
                data.phase = Phase::Interrupting;
                Ok(UpdateDeadline::Continue(grace))
            }
            _ => Ok(UpdateDeadline::Interrupt),
        }
    });
    store.set_epoch_deadline(ticks(policy.init_timeout));
    if let Some(fuel) = policy.fuel {
        // Creation gets a hundred calls' worth.
        store.set_fuel(fuel.saturating_mul(100)).map_err(|e| NodeFailure::Host(format!("setting fuel: {e}")))?;
    }
    Ok(store)
}

/// Classify an error from a call on `store` (for other modules).
pub(crate) fn classify_error(store: &Store<HostState>, e: wasmtime::Error, timeout: Duration) -> NodeFailure {
    classify(store, e, timeout, None)
}

/// A guest's own error (for other modules).
pub(crate) fn guest_error(e: types::NodeError) -> NodeFailure {
    NodeFailure::Guest(value_table::error_from_wit(e))
}

/// The node types a component describes: those built in, or, for the
/// Python component given a module's source, those the module defines.
pub(crate) fn describe(
    component: &LoadedComponent,
    python: Option<(&str, &str)>,
) -> Result<Vec<nodehost_sdk::NodeTypeInfo>, NodeFailure> {
    let policy = SandboxPolicy::default();
    let limits = CallLimits::new(&policy);
    let (mut store, bindings) = instantiate(component, "describe", &policy)?;
    let runtime = bindings.nodehost_node_runtime();
    let infos = match python {
        Some((filename, source)) => runtime
            .call_load_module(&mut store, filename, source)
            .map_err(|e| classify(&store, e, policy.init_timeout, None))?
            .map_err(|e| guest_failure(e, &limits))?,
        None => runtime.call_node_types(&mut store).map_err(|e| classify(&store, e, policy.init_timeout, None))?,
    };
    Ok(infos.into_iter().map(value_table::type_info_from_wit).collect())
}

/// Whether a trap's backtrace is one function calling itself over and over.
/// Compilers for wasm keep part of the stack in linear memory (below the
/// data, growing down), so a guest recursing without end usually runs that
/// stack out of memory (an out-of-bounds access) before the wasm stack
/// limit: a full backtrace dominated by one function is that case.
fn looks_like_runaway_recursion(trace: &WasmBacktrace) -> bool {
    let frames = trace.frames();
    if frames.len() < 16 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for f in frames {
        *counts.entry(f.func_index()).or_insert(0usize) += 1;
    }
    counts.values().any(|&n| n * 2 >= frames.len())
}

/// A trap message with what the backtrace says about its cause, where it
/// says something a node author can act on.
fn explain(message: String, backtrace: Option<&str>) -> String {
    match backtrace {
        Some(bt) if bt.contains("refcount_overflow") => format!(
            "{message} (RustPython on wasm32 counts at most 32767 references to one object, so more than \
             32767 live objects of one type, or references to one object, abort the interpreter)"
        ),
        _ => message,
    }
}

/// Turn a wasmtime error from a call into the failure kind it is.
fn classify(store: &Store<HostState>, e: wasmtime::Error, timeout: Duration, fuel: Option<u64>) -> NodeFailure {
    let trace = e.downcast_ref::<WasmBacktrace>();
    let backtrace = trace.map(|bt| format!("{bt}"));
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => NodeFailure::Timeout(timeout),
        Some(Trap::StackOverflow) => NodeFailure::StackOverflow,
        Some(Trap::MemoryOutOfBounds) if trace.is_some_and(looks_like_runaway_recursion) => NodeFailure::StackOverflow,
        Some(Trap::OutOfFuel) => NodeFailure::OutOfFuel(fuel.unwrap_or(0)),
        _ if store.data().limiter.hit => NodeFailure::OutOfMemory { limit: store.data().limiter.limit },
        Some(trap) => NodeFailure::Trap { message: explain(trap.to_string(), backtrace.as_deref()), backtrace },
        None => {
            let text = format!("{e:#}");
            if text.contains("failed to convert function to given type") {
                // Not a trap: the component's functions have other types
                // than this host's interface (an older build or bake).
                return NodeFailure::Host(format!(
                    "the component was built for another version of the node interface (wit/node.wit); rebuild or re-bake it: {text}"
                ));
            }
            NodeFailure::Trap { message: explain(text, backtrace.as_deref()), backtrace }
        }
    }
}
