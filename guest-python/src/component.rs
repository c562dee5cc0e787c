//! The Python guest component: the WIT `runtime` exports over one
//! [`PythonRuntime`] that lives as long as the component instance.

use std::rc::Rc;

use nodehost_sdk::{Component, DynNode, NodeError, NodeTypeInfo, Settings, Value};

use crate::PythonRuntime;

thread_local! {
    static RUNTIME: std::cell::OnceCell<Result<Rc<PythonRuntime>, NodeError>> = const { std::cell::OnceCell::new() };
}

/// The component's interpreter, started on first use with the host's settings.
fn runtime() -> Result<Rc<PythonRuntime>, NodeError> {
    RUNTIME.with(|cell| {
        cell.get_or_init(|| {
            let rt = PythonRuntime::new()?;
            let settings = nodehost_sdk::component::settings();
            rt.set_max_outputs(settings.max_outputs as usize);
            if settings.interruptible {
                rt.set_interruptible(true)?;
            }
            Ok(rt)
        })
        .clone()
    })
}

unsafe extern "C" {
    /// wasi-libc's: forget the preopened directories it has looked up, so
    /// the next path operation asks the host again.
    fn __wasilibc_reset_preopens();
}

/// wasi-libc looks up the preopened directories once, at the first path
/// operation, and a snapshot keeps what it found then (none: snapshots are
/// made without directories). An instance made from a snapshot forgets that
/// list, so it sees the directories of its own policy (its `/tmp`, granted
/// directories).
fn forget_snapshot_preopens() {
    // SAFETY: no other thread exists, and no path lookup is in progress
    // between two calls from the host.
    unsafe { __wasilibc_reset_preopens() }
}

struct PythonComponent;

impl Component for PythonComponent {
    fn configure(settings: &Settings) {
        // Settings apply when the interpreter starts. If it already runs,
        // this instance comes from a snapshot: apply them now, and draw
        // fresh random state, which the snapshot would otherwise share with
        // every other instance made from it.
        if let Some(Ok(rt)) = RUNTIME.with(|cell| cell.get().cloned()) {
            forget_snapshot_preopens();
            rt.set_max_outputs(settings.max_outputs as usize);
            let _ = rt.set_interruptible(settings.interruptible);
            let _ = rt.reseed();
        }
    }

    fn prepare(modules: Vec<String>) -> Result<(), NodeError> {
        runtime()?.prepare(&modules)
    }

    fn node_types() -> Vec<NodeTypeInfo> {
        runtime().map(|rt| rt.node_types()).unwrap_or_default()
    }

    fn load_module(name: String, source: String) -> Result<Vec<NodeTypeInfo>, NodeError> {
        runtime()?.load_module(&name, &source)
    }

    fn create(type_name: &str, params: Value) -> Result<Box<dyn DynNode>, NodeError> {
        Ok(Box::new(runtime()?.create(type_name, params)?))
    }
}

nodehost_sdk::export_component!(PythonComponent);
