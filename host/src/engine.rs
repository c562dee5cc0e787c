//! [`WasmEngine`]: the wasmtime engine configured for nodes, the linker
//! with what a node may import, and the compiled-component cache.
//!
//! A component is compiled once per process (kept in memory) and once per
//! machine (kept on disk as a `.cwasm` file in the cache directory, keyed by
//! the component's SHA-256 and the engine's configuration). The Python
//! component takes about 10 s to compile, so only the first run on a machine
//! pays it.

use std::collections::HashMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::NodeComponentPre;
use crate::error::Error;
use crate::policy::SandboxPolicy;
use crate::wasm::HostState;

/// How often the engine's epoch advances: the resolution of CPU deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

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
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { cache_dir: default_cache_dir(), max_wasm_stack: 8 << 20 }
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

/// A compiled component, pre-instantiated against the node linker.
pub struct LoadedComponent {
    pub(crate) name: String,
    pub(crate) pre: NodeComponentPre<HostState>,
}

impl LoadedComponent {
    /// The component's name (for messages).
    pub fn name(&self) -> &str {
        &self.name
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

type CacheSlot = Arc<OnceLock<Result<Arc<LoadedComponent>, String>>>;

/// One wasmtime engine, its linker and its compiled components.
struct Variant {
    engine: Engine,
    linker: Linker<HostState>,
    /// SHA-256 of the engine's compatibility hash: part of every disk cache key.
    key: String,
    components: Mutex<HashMap<[u8; 32], CacheSlot>>,
}

impl Variant {
    fn new(kind: EngineKind) -> Result<Self, Error> {
        let mut wasm_config = Config::new();
        wasm_config
            .epoch_interruption(true)
            .consume_fuel(kind.fuel)
            .max_wasm_stack(kind.max_wasm_stack)
            // Calls are synchronous, but wasmtime-wasi enables async support,
            // whose fiber stacks must be able to hold the wasm stack.
            .async_stack_size(kind.max_wasm_stack + (1 << 20))
            .parallel_compilation(true);
        let engine = Engine::new(&wasm_config)
            .map_err(|e| Error::Load { what: "engine".into(), message: format!("{e:#}") })?;
        let mut linker = Linker::new(&engine);
        crate::wasm::add_to_linker(&mut linker)
            .map_err(|e| Error::Load { what: "linker".into(), message: format!("{e:#}") })?;
        let key = {
            let mut hasher = ShaHasher(Sha256::new());
            std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
            hex(&hasher.0.finalize()[..16])
        };
        Ok(Variant { engine, linker, key, components: Mutex::default() })
    }
}

/// The wasmtime engines for nodes, with their compiled-component caches.
pub struct WasmEngine {
    config: EngineConfig,
    variants: Mutex<HashMap<EngineKind, Arc<Variant>>>,
}

impl WasmEngine {
    /// An engine with `config`, and a thread that advances its epoch.
    pub fn new(config: EngineConfig) -> Result<Arc<Self>, Error> {
        let this = Arc::new(WasmEngine { config, variants: Mutex::default() });
        // Build the default engine now, so a bad configuration shows at once.
        this.variant(this.default_kind())?;
        start_epoch_ticker(Arc::downgrade(&this));
        Ok(this)
    }

    /// The process-wide engine with the default configuration.
    pub fn shared() -> Result<Arc<Self>, Error> {
        static SHARED: OnceLock<Result<Arc<WasmEngine>, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                WasmEngine::new(EngineConfig::default()).map_err(|e| match e {
                    Error::Load { message, .. } => message,
                    other => other.to_string(),
                })
            })
            .clone()
            .map_err(|message| Error::Load { what: "engine".into(), message })
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
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
        let v = Arc::new(Variant::new(kind)?);
        variants.insert(kind, Arc::clone(&v));
        Ok(v)
    }

    /// One of the components built into this binary.
    pub fn builtin(&self, guest: &nodehost_artifacts::GuestComponent, kind: EngineKind) -> Result<Arc<LoadedComponent>, Error> {
        self.load(guest.name, guest.bytes, guest.sha256, kind)
    }

    /// A component from a file.
    pub fn load_file(&self, path: &Path, kind: EngineKind) -> Result<Arc<LoadedComponent>, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::Load {
            what: path.display().to_string(),
            message: e.to_string(),
        })?;
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        self.load(&path.display().to_string(), &bytes, digest, kind)
    }

    /// A component from bytes whose SHA-256 is `digest`: from memory if this
    /// process has it, else from the disk cache, else compiled (and cached).
    pub fn load(&self, name: &str, bytes: &[u8], digest: [u8; 32], kind: EngineKind) -> Result<Arc<LoadedComponent>, Error> {
        let variant = self.variant(kind)?;
        let slot = variant.components.lock().expect("cache lock").entry(digest).or_default().clone();
        slot.get_or_init(|| self.compile_or_read(&variant, name, bytes, digest).map(Arc::new))
            .clone()
            .map_err(|message| Error::Load { what: name.to_owned(), message })
    }

    fn compile_or_read(&self, variant: &Variant, name: &str, bytes: &[u8], digest: [u8; 32]) -> Result<LoadedComponent, String> {
        let engine = &variant.engine;
        let cached = self
            .config
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{}-{}.cwasm", hex(&digest), variant.key)));
        let mut component = None;
        if let Some(path) = cached.as_ref().filter(|p| p.is_file()) {
            // SAFETY: the file is one this host wrote with
            // `Engine::precompile_component` for an engine of the same
            // configuration (the key says so); wasmtime checks its header
            // and refuses code from another engine or version.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(c) => component = Some(c),
                Err(e) => tracing::warn!(path = %path.display(), "ignoring unusable compiled-code cache entry: {e:#}"),
            }
        }
        let component = match component {
            Some(c) => c,
            None => {
                let started = Instant::now();
                if bytes.len() > 4 << 20 {
                    tracing::info!("compiling the {name} component ({} MB); this happens once per machine", bytes.len() >> 20);
                }
                let compiled = engine.precompile_component(bytes).map_err(|e| describe_load_error(&e))?;
                tracing::debug!("compiled {name} in {:?}", started.elapsed());
                if let Some(path) = &cached {
                    if let Err(e) = write_atomically(path, &compiled) {
                        tracing::warn!(path = %path.display(), "could not write the compiled-code cache: {e}");
                    }
                }
                // SAFETY: `compiled` was produced just now by this engine.
                unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| format!("{e:#}"))?
            }
        };
        let instance_pre = variant.linker.instantiate_pre(&component).map_err(|e| describe_load_error(&e))?;
        let pre = NodeComponentPre::new(instance_pre).map_err(|e| describe_load_error(&e))?;
        Ok(LoadedComponent { name: name.to_owned(), pre })
    }
}

/// A load error in words a user can act on.
fn describe_load_error(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    if text.contains("magic header") || text.contains("unexpected end") || text.contains("failed to parse") {
        format!("not a valid WebAssembly component: {text}")
    } else if text.contains("no exported instance") || text.contains("import") && text.contains("not found") {
        format!("the component does not implement the nodehost:node/node-component world: {text}")
    } else {
        text
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache file has a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().unwrap().to_string_lossy(), std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
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

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
