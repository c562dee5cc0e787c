//! Pre-initialized Python components: the Python guest snapshotted (with
//! Wizer's component support) after its interpreter has started and the
//! standard-library modules nodes commonly import are loaded, so a new
//! instance skips all of that. A snapshot taken after a node's own module is
//! loaded too is a *baked* component (`nodehost bake`).
//!
//! Making a snapshot runs the guest once under a throwaway engine
//! (unoptimized code, which compiles fast) and rewrites the component with
//! the memory and globals it ended with. Things the guest read from the host
//! during start-up stay as they were then: WASI environment variables and
//! preopened directories (so nodes granted either use the plain component),
//! and Python's hash seed; `random` is reseeded in each new instance.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use wasmtime::component::{Instance, Linker, WasmList};
use wasmtime::{Config, Engine, OptLevel, Store};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use crate::bindings::NodeComponent;
use crate::error::{Error, NodeFailure};
use crate::policy::SandboxPolicy;
use crate::wasm::HostState;

/// The standard-library modules a snapshot imports ahead of time.
pub const PRELOADED_MODULES: &[&str] = &[
    "json", "re", "math", "collections", "dataclasses", "itertools", "functools", "operator", "typing", "enum",
    "abc", "struct", "array", "random", "datetime", "time", "string", "copy", "statistics", "heapq", "bisect",
];

/// Bumped whenever what a snapshot contains changes, so cached snapshots
/// from an older recipe are not used.
pub const RECIPE: &str = "nodehost-python-snapshot-1";

/// Snapshot `component` (the Python guest) after preparing it with
/// [`PRELOADED_MODULES`] and, for a baked component, loading `module`
/// (`(filename, source)`).
pub fn snapshot_python(component: &[u8], module: Option<(&str, &str)>) -> Result<Vec<u8>, Error> {
    let fail = |what: &str, e: &dyn std::fmt::Display| Error::Load { what: "Python snapshot".into(), message: format!("{what}: {e}") };
    let started = Instant::now();
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer.instrument_component(component).map_err(|e| fail("instrumenting", &e))?;

    let mut config = Config::new();
    config.cranelift_opt_level(OptLevel::None).max_wasm_stack(8 << 20).async_stack_size(9 << 20);
    let engine = Engine::new(&config).map_err(|e| fail("engine", &e))?;
    let compiled = wasmtime::component::Component::new(&engine, &instrumented).map_err(|e| fail("compiling", &e))?;
    let mut linker = Linker::new(&engine);
    crate::wasm::add_to_linker(&mut linker).map_err(|e| fail("linking", &e))?;
    let policy = SandboxPolicy { init_timeout: Duration::from_secs(600), ..SandboxPolicy::default() };
    let mut store = crate::wasm::new_store(&engine, "snapshot", &policy).map_err(|e| fail("store", &e))?;
    // This engine does not advance its epoch: no deadline applies.
    store.set_epoch_deadline(u64::MAX);
    let instance = linker.instantiate(&mut store, &compiled).map_err(|e| fail("instantiating", &e))?;
    let bindings = NodeComponent::new(&mut store, &instance).map_err(|e| fail("binding", &e))?;
    let runtime = bindings.nodehost_node_runtime();
    let timeout = policy.init_timeout;
    let guest = |failure: NodeFailure| fail("starting the interpreter", &failure);
    crate::wasm::configure(&mut store, &bindings, &policy).map_err(guest)?;
    let modules: Vec<String> = PRELOADED_MODULES.iter().map(|m| m.to_string()).collect();
    runtime
        .call_prepare(&mut store, &modules)
        .map_err(|e| guest(crate::wasm::classify_error(&store, e, timeout)))?
        .map_err(|e| guest(crate::wasm::guest_error(e)))?;
    if let Some((filename, source)) = module {
        runtime
            .call_load_module(&mut store, filename, source)
            .map_err(|e| guest(crate::wasm::classify_error(&store, e, timeout)))?
            .map_err(|e| guest(crate::wasm::guest_error(e)))?;
    }
    let mut state = SnapshotState { store: &mut store, instance };
    let snapshot = block_on(wizer.snapshot_component(&cx, &mut state)).map_err(|e| fail("snapshotting", &e))?;
    tracing::debug!("made a Python snapshot ({} bytes) in {:?}", snapshot.len(), started.elapsed());
    Ok(snapshot)
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
