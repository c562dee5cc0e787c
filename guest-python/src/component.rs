//! The Python guest component: the WIT `runtime` exports over one
//! [`PythonRuntime`] that lives as long as the component instance.

use std::rc::Rc;

use nodehost_sdk::{Component, DynNode, NodeError, NodeTypeInfo, Value};

use crate::PythonRuntime;

thread_local! {
    static RUNTIME: std::cell::OnceCell<Result<Rc<PythonRuntime>, NodeError>> = const { std::cell::OnceCell::new() };
}

/// The component's interpreter, started on first use.
fn runtime() -> Result<Rc<PythonRuntime>, NodeError> {
    RUNTIME.with(|cell| cell.get_or_init(PythonRuntime::new).clone())
}

struct PythonComponent;

impl Component for PythonComponent {
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
