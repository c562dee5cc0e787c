//! The data of one node's wasmtime [`Store`] ([`HostState`]) and how a store
//! is made and armed: the WASI context with only the policy's grants, the
//! memory limiter, and the soft and hard deadlines of each call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{AsContextMut, Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::error::{NodeFailure, SandboxSetup};
use crate::log::GuestLog;
use crate::node::CancelHandle;
use crate::policy::SandboxPolicy;
use crate::sandbox::batch::Batch;
use nodehost_sdk::codec::ValueForms;
use crate::sandbox::imports::stdio::GuestStream;
use crate::sandbox::staging::Staging;
use crate::sandbox::scratch::{self, Scratch};

/// Most resources (pollables, streams, open files...) a node may hold on
/// the host at once: they live on the host's heap, outside the node's
/// memory limit.
pub(crate) const MAX_RESOURCES: usize = 10_000;

/// Epoch ticks between two checks of a running call's deadlines and of
/// its cancel handle: 20 ticks of 5 ms, so a cancellation or a deadline
/// lands within 100 ms and the check costs nothing measurable.
const CHECK_EVERY: u64 = 20;

/// How often the engine's epoch advances: the resolution of CPU deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Where the running call is with respect to its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before the soft deadline (or no soft deadline: straight to hard).
    Running,
    /// Past the soft deadline: the guest has been asked to stop.
    Interrupting,
}

/// The data of one node's [`Store`].
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) log: Arc<GuestLog>,
    pub(crate) phase: Phase,
    /// When the running call's soft deadline passes, when it has one: the
    /// guest is then asked to stop.
    pub(crate) soft_deadline: Option<Instant>,
    /// When the running call's hard deadline passes: the call traps, and
    /// sleeps end there.
    pub(crate) hard_deadline: Instant,
    /// Set from outside to stop the running call at the next tick.
    pub(crate) cancel: CancelHandle,
    /// The guest's monotonic clock (WASI's `monotonic-clock`).
    pub(crate) clock: MonotonicClock,
    /// The running `process-many` call's inputs and answers.
    pub(crate) batch: Batch,
    /// The value forms the component asked for when configured: how the
    /// host encodes what it sends.
    pub(crate) value_forms: ValueForms,
    /// What the node wrote to its stdout during the running call, when
    /// its component asked for staged bytes.
    pub(crate) staging: Staging,
    /// The node's private `/tmp`, when its policy gives one. Last, so the
    /// directory is removed after everything that has it open is dropped.
    pub(crate) scratch: Option<Scratch>,
}

impl HostState {
    /// The node's staged bytes, when its component asked for them.
    pub(crate) fn staging(&self) -> Option<&Staging> {
        self.value_forms.staged_bytes.then_some(&self.staging)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// WASI's monotonic clock for one node: nanoseconds since the node's store
/// was created.
#[derive(Clone, Copy)]
pub(crate) struct MonotonicClock {
    start: Instant,
}

impl wasmtime_wasi::HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Most core instances, memories and tables one node's store may create,
/// and most elements one table may hold: room for any component a Rust or
/// Python toolchain makes, with the pooling allocator's own per-component
/// limits as the tighter bound where the pool is in use.
pub(crate) const MAX_INSTANCES: usize = 32;
pub(crate) const MAX_MEMORIES: usize = 4;
pub(crate) const MAX_TABLES: usize = 8;
pub(crate) const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Bounds what one node's instance may allocate: linear memory in total
/// across all its memories (not per memory), and how many instances,
/// memories and tables it may create. It remembers that it refused memory,
/// so the trap that follows is reported as out of memory; the record is
/// cleared when the next call starts.
pub(crate) struct MemoryLimiter {
    pub(crate) limit: u64,
    /// Bytes of linear memory the instance holds, all memories together.
    pub(crate) total: u64,
    pub(crate) hit: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: u64) -> Self {
        MemoryLimiter { limit, total: 0, hit: false }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        let ok = self.total.saturating_add(growth) <= self.limit;
        if ok {
            self.total += growth;
        } else {
            self.hit = true;
        }
        Ok(ok)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Most bytes the host copies out of the node in one crossing (wasmtime's
/// hostcall fuel: the results of one call, or the arguments of one call the
/// node makes into the host): what the policy lets one call give (its
/// outputs and its log), never more than the node's own memory limit, and
/// at least 16 MiB. wasmtime's default is 128 MiB whatever the node.
pub(crate) fn hostcall_budget(policy: &SandboxPolicy) -> usize {
    let outputs = policy.max_output_bytes.saturating_mul(u64::from(policy.max_outputs));
    let wanted = outputs.saturating_add(policy.max_log_bytes as u64).saturating_add(4 << 20);
    usize::try_from(wanted.min(policy.memory).max(16 << 20)).unwrap_or(usize::MAX)
}

/// Arm the deadlines for one call or one step of creating a node: the soft
/// one `soft` from now (for interruptible nodes), the hard one `hard` from
/// now. The deadlines are checked at every epoch tick (see [`new_store`]).
pub(crate) fn arm(store: impl AsContextMut<Data = HostState>, soft: Option<Duration>, hard: Duration) {
    arm_at(store, Instant::now(), soft, hard);
}

/// [`arm`], with the call starting at `now`.
pub(crate) fn arm_at(mut store: impl AsContextMut<Data = HostState>, now: Instant, soft: Option<Duration>, hard: Duration) {
    let mut store = store.as_context_mut();
    let data = store.data_mut();
    data.phase = Phase::Running;
    data.limiter.hit = false;
    data.soft_deadline = soft.map(|s| now + s);
    data.hard_deadline = now + hard;
    data.log.start_call();
    store.set_epoch_deadline(first_check(soft, hard));
}

/// Ticks to the first check of a call: its first deadline if that comes
/// sooner than the regular check.
fn first_check(soft: Option<Duration>, hard: Duration) -> u64 {
    let first = soft.unwrap_or(hard).min(hard);
    let ticks = first.as_nanos() / EPOCH_TICK.as_nanos();
    u64::try_from(ticks).unwrap_or(u64::MAX).clamp(1, CHECK_EVERY)
}

/// A fresh store on `engine` for node `id` under `policy`. Its WASI context
/// grants only the policy's directories and environment variables, and a
/// fresh private `/tmp` bounded by the policy's `tmp` (unless that is 0 or
/// a granted directory is `/tmp`): no arguments, no network, an empty
/// stdin.
pub(crate) fn new_store(engine: &Engine, id: &str, policy: &SandboxPolicy) -> Result<Store<HostState>, NodeFailure> {
    let log = GuestLog::new(id, policy.max_log_bytes);
    // An answer staged through stdout holds the host to what one through
    // the canonical ABI could: the node's memory (outputs are checked one
    // by one against `max_output_bytes` once resolved).
    let staging = Staging::new(policy.memory.max(policy.max_output_bytes), Arc::clone(&log));
    let clock = MonotonicClock { start: Instant::now() };
    let mut wasi = WasiCtxBuilder::new();
    wasi.monotonic_clock(clock)
        .stdout(GuestStream::stdout(Arc::clone(&log), staging.clone()))
        .stderr(GuestStream::stderr(Arc::clone(&log)))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for dir in &policy.dirs {
        let perms = if dir.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
        wasi.preopened_dir(&dir.host, &dir.guest, perms).map_err(|source| {
            NodeFailure::Setup(SandboxSetup::Grant { host: dir.host.clone(), guest: dir.guest.clone(), source })
        })?;
    }
    let tmp_granted = policy.dirs.iter().any(|d| d.guest.trim_end_matches('/') == scratch::GUEST_PATH);
    let scratch = if policy.tmp > 0 && !tmp_granted {
        let scratch = Scratch::new(policy.tmp)
            .map_err(|source| NodeFailure::Setup(SandboxSetup::Scratch { source: source.into() }))?;
        wasi.preopened_dir(scratch.host_path(), scratch::GUEST_PATH, FsPerms::ReadWrite)
            .map_err(|source| NodeFailure::Setup(SandboxSetup::Scratch { source }))?;
        Some(scratch)
    } else {
        None
    };
    for name in &policy.env {
        if let Ok(value) = std::env::var(name) {
            wasi.env(name, value);
        }
    }
    let state = HostState {
        wasi: wasi.build(),
        table: {
            let mut table = ResourceTable::new();
            table.set_max_capacity(MAX_RESOURCES);
            table
        },
        limiter: MemoryLimiter::new(policy.memory),
        log,
        phase: Phase::Running,
        soft_deadline: None,
        hard_deadline: Instant::now() + policy.init_timeout,
        cancel: CancelHandle::default(),
        clock,
        batch: Batch::default(),
        value_forms: ValueForms::default(),
        staging,
        scratch,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_hostcall_fuel(hostcall_budget(policy));
    // At every tick while the node runs: trap when the call is cancelled
    // or past its hard deadline; past the soft deadline, ask the guest to
    // stop (and give it until the hard one). A tick costs a clock read.
    store.epoch_deadline_callback(|mut ctx| {
        let data = ctx.data_mut();
        let now = Instant::now();
        if data.cancel.is_cancelled() || now >= data.hard_deadline {
            return Ok(UpdateDeadline::Interrupt);
        }
        if data.phase == Phase::Running && data.soft_deadline.is_some_and(|soft| now >= soft) {
            data.phase = Phase::Interrupting;
        }
        // Check again at the next deadline, or the regular check if sooner.
        let next = [data.soft_deadline.filter(|_| data.phase == Phase::Running), Some(data.hard_deadline)]
            .into_iter()
            .flatten()
            .map(|d| d.saturating_duration_since(now))
            .min()
            .unwrap_or_default();
        let ticks = u64::try_from(next.as_nanos() / EPOCH_TICK.as_nanos()).unwrap_or(u64::MAX);
        Ok(UpdateDeadline::Continue(ticks.clamp(1, CHECK_EVERY)))
    });
    store.set_epoch_deadline(first_check(None, policy.init_timeout));
    if let Some(fuel) = policy.fuel {
        // Creation gets a hundred calls' worth.
        store
            .set_fuel(fuel.saturating_mul(100))
            .map_err(|source| NodeFailure::Setup(SandboxSetup::Fuel { source }))?;
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    //! The limiter on a real store: core modules (encoded by hand below, so
    //! no text-format parser is needed) whose memories, tables and instances
    //! go past the fixed limits, each of which would pass a limiter that
    //! looked at one memory, table or instance at a time.

    use wasmtime::{Config, Engine, Instance, Module};

    use super::*;
    use crate::sandbox::trap::classify_instantiate;

    const PAGE: u64 = 64 << 10;

    fn leb(mut n: u32, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn section(id: u8, count: usize, entries: &[u8], out: &mut Vec<u8>) {
        let mut body = Vec::new();
        leb(u32::try_from(count).unwrap(), &mut body);
        body.extend_from_slice(entries);
        out.push(id);
        leb(u32::try_from(body.len()).unwrap(), out);
        out.extend(body);
    }

    /// A core module defining tables of these minimum sizes (in elements)
    /// and memories of these minimum sizes (in 64 KiB pages), and nothing
    /// else.
    fn module(tables: &[u32], memories: &[u32]) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        if !tables.is_empty() {
            let mut entries = Vec::new();
            for &min in tables {
                entries.extend([0x70, 0x00]); // funcref, no maximum
                leb(min, &mut entries);
            }
            section(4, tables.len(), &entries, &mut wasm);
        }
        if !memories.is_empty() {
            let mut entries = Vec::new();
            for &min in memories {
                entries.push(0x00); // no maximum
                leb(min, &mut entries);
            }
            section(5, memories.len(), &entries, &mut wasm);
        }
        wasm
    }

    fn engine() -> Engine {
        let mut config = Config::new();
        config.wasm_multi_memory(true).epoch_interruption(true);
        Engine::new(&config).unwrap()
    }

    fn fresh_store(engine: &Engine, memory: u64) -> Store<HostState> {
        new_store(
            engine,
            "limits",
            &SandboxPolicy {
                memory,
                ..SandboxPolicy::default()
            },
        )
        .unwrap()
    }

    fn instantiate(
        engine: &Engine,
        store: &mut Store<HostState>,
        wasm: &[u8],
    ) -> wasmtime::Result<Instance> {
        let module = Module::new(engine, wasm)?;
        Instance::new(store, &module, &[])
    }

    #[test]
    fn memories_count_together_against_the_memory_limit() {
        let engine = engine();
        let limit = 16 * PAGE;
        // Four memories of 6 pages: each fits in 16, all four (24) do not.
        let mut store = fresh_store(&engine, limit);
        let e = instantiate(&engine, &mut store, &module(&[], &[6; 4])).unwrap_err();
        assert!(
            store.data().limiter.hit,
            "the limiter did not refuse: {e:#}"
        );
        let failure = classify_instantiate(&store, e, Duration::from_secs(1), None);
        assert!(
            matches!(failure, NodeFailure::OutOfMemory { limit: l } if l == limit),
            "{failure:?}"
        );
        // Four of 4 pages come to exactly the limit: allowed.
        let mut store = fresh_store(&engine, limit);
        instantiate(&engine, &mut store, &module(&[], &[4; 4])).unwrap();
        assert_eq!(
            (store.data().limiter.total, store.data().limiter.hit),
            (limit, false)
        );
        // The total is the store's, across instances: 3 x 5 pages, then a
        // second instance's 2 pages (17 in all) is refused.
        let mut store = fresh_store(&engine, limit);
        instantiate(&engine, &mut store, &module(&[], &[5; 3])).unwrap();
        let e = instantiate(&engine, &mut store, &module(&[], &[2])).unwrap_err();
        assert!(store.data().limiter.hit, "{e:#}");
    }

    #[test]
    fn a_node_has_at_most_max_memories_memories() {
        let engine = engine();
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[], &[0; MAX_MEMORIES])).unwrap();
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[], &[0; MAX_MEMORIES + 1])).unwrap_err();
        // Nor across instances: the count is the store's.
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[], &[0; MAX_MEMORIES])).unwrap();
        instantiate(&engine, &mut store, &module(&[], &[0])).unwrap_err();
    }

    #[test]
    fn tables_and_their_elements_are_capped() {
        let engine = engine();
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[1; MAX_TABLES], &[])).unwrap();
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[1; MAX_TABLES + 1], &[])).unwrap_err();
        let elements = u32::try_from(MAX_TABLE_ELEMENTS).unwrap();
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[elements], &[])).unwrap();
        let mut store = fresh_store(&engine, 1 << 30);
        instantiate(&engine, &mut store, &module(&[elements + 1], &[])).unwrap_err();
    }

    #[test]
    fn a_node_has_at_most_max_instances_instances() {
        let engine = engine();
        let empty = Module::new(&engine, module(&[], &[])).unwrap();
        let mut store = fresh_store(&engine, 1 << 30);
        for i in 0..MAX_INSTANCES {
            Instance::new(&mut store, &empty, &[])
                .unwrap_or_else(|e| panic!("instance {}: {e:#}", i + 1));
        }
        Instance::new(&mut store, &empty, &[]).unwrap_err();
    }
}
