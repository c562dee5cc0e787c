//! `nodehost bake`: the Python component snapshotted with a node module
//! already loaded, so creating its nodes skips loading the source too. A
//! packaged node (a package directory, or a file with modules beside it) is
//! baked with its whole bundle, dependencies included, already imported.

use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::node::on_node_thread;
use crate::policy::SandboxPolicy;
use crate::sandbox::{WasmEngine, snapshot_python_within};

/// Bake `file` (a Python node file or package directory) into a pre-initialized component at
/// `output`, and compile that into `engine`'s cache so the first run that
/// uses it starts at once. Returns the component's size in bytes. The
/// module's top-level code gets the default policy's `init_timeout`.
///
/// # Errors
/// When the file cannot be read or written, or the module fails to load
/// (with its Python traceback).
pub fn bake(engine: &WasmEngine, file: &Path, output: &Path) -> Result<usize, Error> {
    bake_within(engine, file, output, SandboxPolicy::default().init_timeout)
}

/// [`bake`], with the module's top-level code stopped after
/// `module_timeout`.
///
/// # Errors
/// As [`bake`]; a module that runs past `module_timeout` is an
/// [`Error::Snapshot`] at the step "loading the node module", whose source
/// is [`NodeFailure::Timeout`](crate::error::NodeFailure::Timeout).
pub fn bake_within(engine: &WasmEngine, file: &Path, output: &Path, module_timeout: Duration) -> Result<usize, Error> {
    let code = crate::package::load_node(file).map_err(|source| Error::Package { path: file.to_owned(), source })?;
    let name = file.display().to_string();
    let module = Some((name.as_str(), code.text.as_str()));
    let baked = on_node_thread(|| snapshot_python_within(nodehost_artifacts::PYTHON.bytes, module, module_timeout))?;
    std::fs::write(output, &baked).map_err(|e| Error::io(format!("writing {}", output.display()), e))?;
    engine.load_file(output, engine.default_kind())?;
    Ok(baked.len())
}
