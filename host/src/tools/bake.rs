//! `nodehost bake`: a Python component snapshotted with a node module
//! already loaded, so creating its nodes skips loading the source too. A
//! packaged node (a package directory, or a file with modules beside it) is
//! baked with its whole bundle, dependencies included, already imported.
//! Either sandbox can be baked: RustPython's component (`wasm`, the
//! default) or CPython's (`wasm-cpython`), whose nodes then start in a
//! fifth of the time.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::factory::{Runtime, wasm_cpython_component};
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

/// [`bake`] onto `runtime`'s component: `wasm` (RustPython) or
/// `wasm-cpython` (CPython).
///
/// # Errors
/// As [`bake`]; [`Error::RuntimeUnavailable`] when `runtime` is not a
/// sandbox or its component is not there.
pub fn bake_for(engine: &WasmEngine, runtime: Runtime, file: &Path, output: &Path) -> Result<usize, Error> {
    bake_onto(engine, runtime, file, output, SandboxPolicy::default().init_timeout)
}

/// [`bake`], with the module's top-level code stopped after
/// `module_timeout`.
///
/// # Errors
/// As [`bake`]; a module that runs past `module_timeout` is an
/// [`Error::Snapshot`] at the step "loading the node module", whose source
/// is [`NodeFailure::Timeout`](crate::error::NodeFailure::Timeout).
pub fn bake_within(engine: &WasmEngine, file: &Path, output: &Path, module_timeout: Duration) -> Result<usize, Error> {
    bake_onto(engine, Runtime::Wasm, file, output, module_timeout)
}

fn bake_onto(engine: &WasmEngine, runtime: Runtime, file: &Path, output: &Path, module_timeout: Duration) -> Result<usize, Error> {
    let unavailable = |reason: String| Error::RuntimeUnavailable { runtime: runtime.as_str(), reason };
    let component: Cow<'static, [u8]> = match runtime {
        Runtime::Wasm => Cow::Borrowed(nodehost_artifacts::PYTHON.bytes),
        Runtime::WasmCpython => {
            if let Some(why) = runtime.unavailable_reason() {
                return Err(unavailable(why));
            }
            let path = wasm_cpython_component().ok_or_else(|| unavailable("no component".into()))?;
            Cow::Owned(std::fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?)
        }
        other => return Err(unavailable(format!("bake makes sandboxed components: 'wasm' or 'wasm-cpython', not '{other}'"))),
    };
    let code = crate::package::load_node(file).map_err(|source| Error::Package { path: file.to_owned(), source })?;
    let name = file.display().to_string();
    let module = Some((name.as_str(), code.text.as_str()));
    let baked = on_node_thread(|| snapshot_python_within(&component, module, module_timeout))?;
    std::fs::write(output, &baked).map_err(|e| Error::io(format!("writing {}", output.display()), e))?;
    engine.load_file(output, engine.default_kind())?;
    Ok(baked.len())
}
