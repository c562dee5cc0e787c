//! [`WasmEngine`]: the wasmtime engine configured for nodes, the linker
//! with what a node may import, and the compiled-component cache.
//!
//! A component is compiled once per process (kept in memory) and once per
//! machine (kept on disk as a `.cwasm` file in the [`DiskCache`], keyed by
//! the component's SHA-256 and the engine's configuration). The Python
//! component takes about 10 s to compile, so only the first run on a machine
//! pays it. Python nodes start from a pre-initialized snapshot of the Python
//! component (see the `snapshot` module), also made once per machine.

use std::collections::HashMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy};

use crate::error::Error;
use crate::node::on_node_thread;
use crate::policy::{DEFAULT_WASM_STACK, SandboxPolicy};
use crate::sandbox::bindings::NodeComponentPre;
use crate::sandbox::cache::DiskCache;
use crate::sandbox::component::LoadedComponent;
use crate::sandbox::imports::add_to_linker;
use crate::sandbox::snapshot;
use crate::sandbox::store::{EPOCH_TICK, HostState};

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where compiled components are kept between runs; `None` keeps them in
    /// memory only.
    pub cache_dir: Option<PathBuf>,
    /// Most native stack a guest may use (bytes). The thread calling into a
    /// node must have more than this; the pipeline's node threads have
    /// [`NODE_THREAD_STACK`](crate::NODE_THREAD_STACK).
    pub max_wasm_stack: usize,
    /// Start Python nodes from a pre-initialized snapshot of the Python
    /// component (made once per machine; needs `cache_dir`). On unless
    /// `NODEHOST_SNAPSHOTS=off`.
    pub snapshots: bool,
    /// Node instances that may be alive at once in each engine's instance
    /// pool (pooling allocator: memory slots are reused and reset
    /// copy-on-write, so a new instance is cheap); 0 allocates each instance
    /// on demand instead. There is one engine per [`EngineKind`] in use (fuel
    /// on or off, each distinct `max_wasm_stack`), each with its own pool. On-demand is also the fallback when the pool cannot be
    /// reserved (a tight address-space limit).
    pub max_instances: u32,
    /// Largest component (bytes) the engine compiles: compiling takes time
    /// and memory that grow with the component, so a larger one is refused
    /// with [`Error::ComponentTooLarge`] before it is read or compiled.
    /// [`DEFAULT_MAX_COMPONENT_BYTES`] by default.
    pub max_component_bytes: u64,
    /// Tell `perf` where compiled guest code is, by name (a
    /// `/tmp/perf-PID.map` file, written as code is loaded), so `perf
    /// report` shows the guest's own functions. Off unless
    /// `NODEHOST_PERF_MAP=1`; it does not change the compiled code.
    pub perf_map: bool,
}

/// The default [`EngineConfig::max_component_bytes`]: 256 MiB, seven times
/// a baked Python component (about 36 MB).
pub const DEFAULT_MAX_COMPONENT_BYTES: u64 = 256 << 20;

impl Default for EngineConfig {
    fn default() -> Self {
        let snapshots = !matches!(std::env::var("NODEHOST_SNAPSHOTS").as_deref(), Ok("off" | "0" | "false"));
        EngineConfig {
            cache_dir: default_cache_dir(),
            max_wasm_stack: DEFAULT_WASM_STACK,
            snapshots,
            max_instances: 1000,
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            perf_map: matches!(std::env::var("NODEHOST_PERF_MAP").as_deref(), Ok("1" | "on" | "true")),
        }
    }
}

/// The cache directory: `$NODEHOST_CACHE_DIR` (`off` disables the disk
/// cache), else `$XDG_CACHE_HOME/nodehost`, else `~/.cache/nodehost`.
pub fn default_cache_dir() -> Option<PathBuf> {
    match std::env::var_os("NODEHOST_CACHE_DIR") {
        Some(v) if v == "off" || v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("nodehost")),
    }
}

/// What an engine's compiled code is built for. Code compiled for one kind
/// cannot run on another, so each kind has its own engine and cache entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngineKind {
    /// Whether the code counts fuel (slower; only for nodes with a fuel budget).
    pub fuel: bool,
    /// Most native stack the wasm code may use.
    pub max_wasm_stack: usize,
}

/// One compiled component, or nothing yet: its lock is held while it is
/// compiled, so callers asking for it at once wait for the one compile. A
/// failed compile leaves it empty (each caller gets its own typed error).
type CacheSlot = Arc<Mutex<Option<Arc<LoadedComponent>>>>;

/// One wasmtime engine, its linker and its compiled components.
struct Variant {
    engine: Engine,
    linker: Linker<HostState>,
    /// SHA-256 of the engine's compatibility hash: part of every disk cache key.
    key: String,
    components: Mutex<HashMap<[u8; 32], CacheSlot>>,
}

impl Variant {
    fn new(kind: EngineKind, config: &EngineConfig) -> Result<Self, Error> {
        let max_instances = config.max_instances;
        let mut wasm_config = Config::new();
        if config.perf_map {
            wasm_config.profiler(ProfilingStrategy::PerfMap);
        }
        wasm_config
            .epoch_interruption(true)
            .consume_fuel(kind.fuel)
            .max_wasm_stack(kind.max_wasm_stack)
            // Calls are synchronous, but wasmtime-wasi enables async support,
            // whose fiber stacks must be able to hold the wasm stack.
            .async_stack_size(kind.max_wasm_stack + (1 << 20))
            .parallel_compilation(true);
        let engine = if max_instances > 0 {
            wasm_config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config(max_instances)));
            Engine::new(&wasm_config).or_else(|e| {
                tracing::warn!("no instance pool ({e:#}); allocating instances on demand");
                wasm_config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
                Engine::new(&wasm_config)
            })
        } else {
            Engine::new(&wasm_config)
        }
        .map_err(Error::Engine)?;
        let mut linker = Linker::new(&engine);
        add_to_linker(&mut linker).map_err(Error::Engine)?;
        let key = {
            let mut hasher = ShaHasher(Sha256::new());
            std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
            hex::encode(&hasher.0.finalize()[..16])
        };
        Ok(Variant { engine, linker, key, components: Mutex::default() })
    }
}

/// The instance pool for `n` node instances. Each slot reserves (but does
/// not use) address space for a full 4 GiB wasm32 memory, so any policy's
/// memory limit fits; only pages a node touches take real memory, and a slot
/// is reset copy-on-write from the component's memory image when reused.
fn pool_config(n: u32) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(8)
        .max_core_instances_per_component(16)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_memory_size(4 << 30)
        .table_elements(100_000)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(1 << 20)
        .max_unused_warm_slots(n.min(100));
    pool
}

/// The wasmtime engines for nodes, with their compiled-component caches.
pub struct WasmEngine {
    config: EngineConfig,
    variants: Mutex<HashMap<EngineKind, Arc<Variant>>>,
    disk: Option<DiskCache>,
}

impl WasmEngine {
    /// An engine with `config`, and a thread that advances its epoch.
    pub fn new(config: EngineConfig) -> Result<Arc<Self>, Error> {
        let disk = config.cache_dir.as_deref().and_then(|dir| {
            DiskCache::open(dir)
                .inspect_err(|e| tracing::warn!("compiled code will not be cached on disk: {}", crate::error::chain(e)))
                .ok()
        });
        let this = Arc::new(WasmEngine { config, variants: Mutex::default(), disk });
        // Build the default engine now, so a bad configuration shows at once.
        this.variant(this.default_kind())?;
        start_epoch_ticker(Arc::downgrade(&this));
        Ok(this)
    }

    /// The process-wide engine with the default configuration (made on
    /// first use; a failure is returned, and the next call tries again).
    ///
    /// # Errors
    /// When the engine cannot be set up (see [`WasmEngine::new`]).
    pub fn shared() -> Result<Arc<Self>, Error> {
        static SHARED: Mutex<Option<Arc<WasmEngine>>> = Mutex::new(None);
        let mut shared = SHARED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(engine) = &*shared {
            return Ok(Arc::clone(engine));
        }
        let engine = WasmEngine::new(EngineConfig::default())?;
        *shared = Some(Arc::clone(&engine));
        Ok(engine)
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The wasmtime engine for `kind` (for benchmarks of compiling and
    /// loading code).
    pub fn wasmtime_engine(&self, kind: EngineKind) -> Result<Engine, Error> {
        self.variant(kind).map(|v| v.engine.clone())
    }

    /// The kind of engine plain nodes run on.
    pub fn default_kind(&self) -> EngineKind {
        EngineKind { fuel: false, max_wasm_stack: self.config.max_wasm_stack }
    }

    /// The kind of engine a node with `policy` runs on.
    pub fn kind_for(&self, policy: &SandboxPolicy) -> EngineKind {
        EngineKind {
            fuel: policy.fuel.is_some(),
            max_wasm_stack: policy.max_wasm_stack.unwrap_or(self.config.max_wasm_stack),
        }
    }

    fn variant(&self, kind: EngineKind) -> Result<Arc<Variant>, Error> {
        let mut variants = self.variants.lock().expect("engine lock");
        if let Some(v) = variants.get(&kind) {
            return Ok(Arc::clone(v));
        }
        let v = Arc::new(Variant::new(kind, &self.config)?);
        variants.insert(kind, Arc::clone(&v));
        Ok(v)
    }

    /// One of the components built into this binary.
    pub fn builtin(&self, guest: &nodehost_artifacts::GuestComponent, kind: EngineKind) -> Result<Arc<LoadedComponent>, Error> {
        self.load(guest.name, guest.bytes, guest.sha256, kind)
    }

    /// The Python component for a node with `policy`: pre-initialized (a
    /// snapshot with the interpreter started and common modules imported)
    /// when snapshots are on and the policy grants no environment variables
    /// (which the interpreter reads at start-up), else plain. (Directories,
    /// `/tmp` too, are looked up again by each instance of a snapshot.)
    pub fn python(&self, policy: &SandboxPolicy) -> Result<Arc<LoadedComponent>, Error> {
        let kind = self.kind_for(policy);
        let plain = !self.config.snapshots || self.disk.is_none() || !policy.env.is_empty();
        if plain {
            return self.builtin(&nodehost_artifacts::PYTHON, kind);
        }
        let key: [u8; 32] = Sha256::new()
            .chain_update(nodehost_artifacts::PYTHON.sha256)
            .chain_update(snapshot::RECIPE)
            .chain_update(snapshot::PRELOADED_MODULES.join(","))
            .finalize()
            .into();
        self.load_with("python (pre-initialized)", key, kind, || {
            let name = format!("{}.wasm", hex::encode(key));
            if let Some(bytes) = self.disk.as_ref().and_then(|d| d.read(&name)) {
                return Ok(bytes);
            }
            tracing::info!("making a pre-initialized Python component; this happens once per machine");
            let bytes = on_node_thread(|| snapshot::snapshot_python(nodehost_artifacts::PYTHON.bytes, None))?;
            if let Some(disk) = &self.disk
                && let Err(e) = disk.write(&name, &bytes)
            {
                tracing::warn!("could not cache the Python snapshot: {e}");
            }
            Ok(bytes)
        })
    }

    /// A component from a file. The caches know it by its path and file
    /// stamp (size, inode, modification time), so a cached component is
    /// found without reading and hashing the whole file (a baked Python
    /// component is over 30 MB); a changed file has a new stamp and is
    /// compiled afresh.
    pub fn load_file(&self, path: &Path, kind: EngineKind) -> Result<Arc<LoadedComponent>, Error> {
        let load_error = |source: std::io::Error| Error::ComponentFile { path: path.to_owned(), source };
        let canonical = path.canonicalize().map_err(load_error)?;
        let meta = std::fs::metadata(&canonical).map_err(load_error)?;
        self.check_size(&path.display().to_string(), meta.len())?;
        let key: [u8; 32] = Sha256::new()
            .chain_update(b"component file\0")
            .chain_update(canonical.as_os_str().as_encoded_bytes())
            .chain_update(crate::sandbox::cache::file_stamp(&meta))
            .finalize()
            .into();
        self.load_with(&path.display().to_string(), key, kind, || std::fs::read(&canonical).map_err(load_error))
    }

    /// A component from bytes whose SHA-256 is `digest`: from memory if this
    /// process has it, else from the disk cache, else compiled (and cached).
    pub fn load(&self, name: &str, bytes: &[u8], digest: [u8; 32], kind: EngineKind) -> Result<Arc<LoadedComponent>, Error> {
        self.load_with(name, digest, kind, || Ok(bytes.to_vec()))
    }

    /// Like [`load`](Self::load), with the component's bytes made only when
    /// it must be compiled (`key` names it in the caches).
    fn load_with(
        &self,
        name: &str,
        key: [u8; 32],
        kind: EngineKind,
        bytes: impl FnOnce() -> Result<Vec<u8>, Error>,
    ) -> Result<Arc<LoadedComponent>, Error> {
        let variant = self.variant(kind)?;
        let slot = Arc::clone(variant.components.lock().expect("cache lock").entry(key).or_default());
        let mut slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(loaded) = &*slot {
            return Ok(Arc::clone(loaded));
        }
        let loaded = Arc::new(self.compile_or_read(&variant, name, key, bytes)?);
        *slot = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Refuse a component of `size` bytes above the configured bound.
    fn check_size(&self, name: &str, size: u64) -> Result<(), Error> {
        let limit = self.config.max_component_bytes;
        if size > limit {
            return Err(Error::ComponentTooLarge { component: name.to_owned(), size, limit });
        }
        Ok(())
    }

    fn compile_or_read(
        &self,
        variant: &Variant,
        name: &str,
        key: [u8; 32],
        bytes: impl FnOnce() -> Result<Vec<u8>, Error>,
    ) -> Result<LoadedComponent, Error> {
        let engine = &variant.engine;
        let file = format!("{}-{}.cwasm", hex::encode(key), variant.key);
        let mut component = None;
        if let Some((disk, path)) = self.disk.as_ref().and_then(|d| d.verified(&file).map(|p| (d, p))) {
            // SAFETY: the file is one this host wrote (its seal verifies)
            // with `Engine::precompile_component` for an engine of the same
            // configuration (the name says so); wasmtime also checks its
            // header and refuses code from another engine or version.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => component = Some(c),
                Err(e) => disk.discard(&file, &format!("wasmtime refused it: {e:#}")),
            }
        }
        let component = match component {
            Some(c) => c,
            None => {
                let bytes = bytes()?;
                self.check_size(name, bytes.len() as u64)?;
                let started = Instant::now();
                if bytes.len() > 4 << 20 {
                    tracing::info!("compiling the {name} component ({} MB); this happens once per machine", bytes.len() >> 20);
                }
                let compiled = engine
                    .precompile_component(&bytes)
                    .map_err(|source| Error::Compile { component: name.to_owned(), source })?;
                tracing::debug!("compiled {name} in {:?}", started.elapsed());
                if let Some(disk) = &self.disk
                    && let Err(e) = disk.write(&file, &compiled)
                {
                    tracing::warn!("could not cache compiled code in {}: {e}", disk.dir().display());
                }
                // SAFETY: `compiled` was produced just now by this engine.
                unsafe { Component::deserialize(engine, &compiled) }
                    .map_err(|source| Error::Deserialize { component: name.to_owned(), source })?
            }
        };
        let link = |source| Error::Link { component: name.to_owned(), source };
        let instance_pre = variant.linker.instantiate_pre(&component).map_err(link)?;
        let pre = NodeComponentPre::new(instance_pre).map_err(link)?;
        Ok(LoadedComponent { name: name.to_owned(), pre })
    }
}

fn start_epoch_ticker(engine: Weak<WasmEngine>) {
    std::thread::Builder::new()
        .name("nodehost-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                for variant in engine.variants.lock().expect("engine lock").values() {
                    variant.engine.increment_epoch();
                }
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn epoch thread");
}

/// Feeds `Hash` output into SHA-256, for a hash that is stable across runs.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
