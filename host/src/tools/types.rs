//! Listing node types: of a Python file or package (by loading it in the
//! sandbox, with its modules and locked dependencies as a bundle), of
//! a component, or of the built-in Rust nodes.

use std::path::Path;
use std::time::Duration;

use nodehost_sdk::NodeTypeInfo;

use crate::error::{Error, Stage};
use crate::node::on_node_thread;
use crate::policy::SandboxPolicy;
use crate::sandbox::WasmEngine;
use crate::sandbox::component::describe;

/// The node types `file` provides (a `.py` file, a Python package
/// directory, or a component), or the
/// built-in Rust nodes when `file` is `None`; loading the file gets the
/// default policy's `init_timeout`.
///
/// # Errors
/// When the file cannot be read or loaded, or its module fails.
pub fn node_types(engine: &WasmEngine, file: Option<&Path>) -> Result<Vec<NodeTypeInfo>, Error> {
    node_types_within(engine, file, SandboxPolicy::default().init_timeout)
}

/// [`node_types`], with loading the file (a Python module's top-level code)
/// stopped after `init_timeout`.
///
/// # Errors
/// When the file cannot be read or loaded, or its module fails or runs past
/// `init_timeout` ([`NodeFailure::Timeout`](crate::error::NodeFailure::Timeout),
/// at [`Stage::Create`]).
pub fn node_types_within(engine: &WasmEngine, file: Option<&Path>, init_timeout: Duration) -> Result<Vec<NodeTypeInfo>, Error> {
    let Some(file) = file else {
        return Ok(nodehost_rust_nodes::node_registry().infos());
    };
    let fail = |failure| Error::Node { node: file.display().to_string(), stage: Stage::Create, failure };
    if file.extension().is_some_and(|e| e == "py") || file.is_dir() {
        let code =
            crate::package::load_node(file).map_err(|source| Error::Package { path: file.to_owned(), source })?;
        let component = engine.builtin(&nodehost_artifacts::PYTHON, engine.default_kind())?;
        let name = file.display().to_string();
        on_node_thread(|| describe(&component, Some((&name, &code.text)), init_timeout)).map_err(fail)
    } else {
        let component = engine.load_file(file, engine.default_kind())?;
        on_node_thread(|| describe(&component, None, init_timeout)).map_err(fail)
    }
}
