//! Pre-initialized Python components: the Python guest snapshotted (with
//! Wizer's component support) after its interpreter has started and the
//! standard-library modules nodes commonly import are loaded, so a new
//! instance skips all of that. A snapshot taken after a node's own module is
//! loaded too is a *baked* component (`nodehost bake`).
//!
//! Making a snapshot runs the guest once under a throwaway engine
//! (unoptimized code, which compiles fast) and rewrites the component with
//! the memory and globals it ended with. Things the guest read from the host
//! during start-up stay as they were then: WASI environment variables (so
//! nodes granted some use the plain component) and Python's hash seed;
//! `random` is reseeded in each new instance, and the guest forgets the
//! preopened directories it looked up (none: a snapshot is made without
//! `/tmp` or grants), so an instance sees its own.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use wasmtime::component::{Instance, Linker, WasmList};
use wasmtime::{Config, Engine, OptLevel, Store};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use crate::error::{Error, NodeFailure};
use crate::policy::SandboxPolicy;
use crate::sandbox::bindings::NodeComponent;
use crate::sandbox::codec;
use crate::sandbox::component::configure;
use crate::sandbox::imports::add_to_linker;
use crate::sandbox::store::{EPOCH_TICK, HostState, arm, new_store};
use crate::sandbox::trap::classify;

/// The standard-library modules a snapshot imports ahead of time.
pub const PRELOADED_MODULES: &[&str] = &[
    "json", "re", "math", "collections", "dataclasses", "itertools", "functools", "operator", "typing", "enum",
    "abc", "struct", "array", "random", "datetime", "time", "string", "copy", "statistics", "heapq", "bisect",
    // With the embedded tz database's index read (nodehost.py's `_warm_zoneinfo`).
    "zoneinfo",
];

/// Bumped whenever what a snapshot contains changes, so cached snapshots
/// from an older recipe are not used.
pub const RECIPE: &str = "nodehost-python-snapshot-2";

/// Snapshot `component` (the Python guest) after preparing it with
/// [`PRELOADED_MODULES`] and, for a baked component, loading `module`
/// (`(filename, source)`), whose top-level code gets the default policy's
/// `init_timeout`.
///
/// # Errors
/// [`Error::Snapshot`] naming the step that failed; a failure of the
/// module's own code carries the Python traceback.
pub fn snapshot_python(component: &[u8], module: Option<(&str, &str)>) -> Result<Vec<u8>, Error> {
    snapshot_python_within(component, module, SandboxPolicy::default().init_timeout)
}

/// [`snapshot_python`], with the module's top-level code stopped after
/// `module_timeout`.
///
/// # Errors
/// As [`snapshot_python`]; a module that runs past `module_timeout` fails
/// at the step "loading the node module" with [`NodeFailure::Timeout`].
pub fn snapshot_python_within(component: &[u8], module: Option<(&str, &str)>, module_timeout: Duration) -> Result<Vec<u8>, Error> {
    fn fail(step: &'static str) -> impl FnOnce(wasmtime::Error) -> Error {
        move |e| Error::Snapshot { step, source: e.into_boxed_dyn_error() }
    }
    let guest = |step: &'static str| move |failure: NodeFailure| Error::Snapshot { step, source: Box::new(failure) };
    let started = Instant::now();
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer.instrument_component(component).map_err(fail("instrumenting the component"))?;

    let mut config = Config::new();
    config
        .cranelift_opt_level(OptLevel::None)
        .max_wasm_stack(8 << 20)
        .async_stack_size(9 << 20)
        .epoch_interruption(true);
    let engine = Engine::new(&config).map_err(fail("setting up an engine"))?;
    let compiled = wasmtime::component::Component::new(&engine, &instrumented).map_err(fail("compiling"))?;
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker).map_err(fail("linking"))?;
    // Starting the interpreter and importing the standard library is the
    // project's own code (unoptimized here, so slow): a generous deadline.
    // The node module's top-level code is the node author's: it gets the
    // same deadline as creating a node does.
    // No /tmp: the snapshot must not remember a directory (each instance
    // gets its own).
    let policy = SandboxPolicy { init_timeout: Duration::from_secs(600), tmp: 0, ..SandboxPolicy::default() };
    let mut store = new_store(&engine, "snapshot", &policy).map_err(guest("making a store"))?;
    // Reading the snapshot's memory out is the host's own copy.
    store.set_hostcall_fuel(usize::MAX);
    let _ticker = EpochTicker::start(engine.clone());
    let instance = linker.instantiate(&mut store, &compiled).map_err(fail("instantiating"))?;
    let bindings = NodeComponent::new(&mut store, &instance).map_err(fail("binding the exports"))?;
    let runtime = bindings.nodehost_node_runtime();
    let timeout = policy.init_timeout;
    configure(&mut store, &bindings, &policy).map_err(guest("starting the interpreter"))?;
    let own = |e| NodeFailure::from_guest(codec::error_from_wit(e), timeout);
    let modules: Vec<String> = PRELOADED_MODULES.iter().map(|m| (*m).to_owned()).collect();
    runtime
        .call_prepare(&mut store, &modules)
        .map_err(|e| classify(&store, e, timeout, None))
        .and_then(|r| r.map_err(own))
        .map_err(guest("importing the preloaded modules"))?;
    if let Some((filename, source)) = module {
        arm(&mut store, None, module_timeout);
        runtime
            .call_load_module(&mut store, filename, source)
            .map_err(|e| classify(&store, e, module_timeout, None))
            .and_then(|r| r.map_err(own))
            .map_err(guest("loading the node module"))?;
    }
    // Reading the state out is the host's own work: no deadline.
    arm(&mut store, None, policy.init_timeout);
    let mut state = SnapshotState { store: &mut store, instance };
    let snapshot = block_on(wizer.snapshot_component(&cx, &mut state)).map_err(fail("snapshotting"))?;
    tracing::debug!("made a Python snapshot ({} bytes) in {:?}", snapshot.len(), started.elapsed());
    Ok(snapshot)
}

/// Advances an engine's epoch every [`EPOCH_TICK`] until dropped, so the
/// deadlines of a snapshot's steps fire.
struct EpochTicker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("nodehost-snapshot-epoch".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        EpochTicker { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads an instrumented instance's state for Wizer, with synchronous calls.
struct SnapshotState<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
}

impl SnapshotState<'_> {
    fn call<R: wasmtime::component::Lift + Send + Sync + 'static, T>(
        &mut self,
        instance: &str,
        func: &str,
        then: impl FnOnce(&mut Store<HostState>, R) -> T,
    ) -> T {
        let (_, exported) = self.instance.get_export(&mut *self.store, None, instance).expect("wizer's instance");
        let (_, index) = self.instance.get_export(&mut *self.store, Some(&exported), func).expect("wizer's function");
        let func = self.instance.get_typed_func::<(), (R,)>(&mut *self.store, index).expect("wizer's function type");
        let (ret,) = func.call(&mut *self.store, ()).expect("wizer's accessor");
        then(self.store, ret)
    }
}

impl ComponentInstanceState for SnapshotState<'_> {
    fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) -> impl Future<Output = ()> + Send {
        self.call(instance, func, |store, list: WasmList<u8>| contents(list.as_le_slice(&*store)));
        std::future::ready(())
    }

    fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> impl Future<Output = i32> + Send {
        std::future::ready(self.call(instance, func, |_, r: i32| r))
    }

    fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> impl Future<Output = i64> + Send {
        std::future::ready(self.call(instance, func, |_, r: i64| r))
    }

    fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> impl Future<Output = u32> + Send {
        std::future::ready(self.call(instance, func, |_, r: f32| r.to_bits()))
    }

    fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> impl Future<Output = u64> + Send {
        std::future::ready(self.call(instance, func, |_, r: f64| r.to_bits()))
    }
}

/// Drive a future whose every step is synchronous to completion.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
