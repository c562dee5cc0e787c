//! `nodehost lock`: resolve a Python node's declared dependencies into
//! `nodehost.lock` ([`crate::package::lock`]), then check in the sandbox
//! that each pure-Python dependency imports, so a dependency that cannot
//! run there is reported now and not at a pipeline's first item.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Stage};
use crate::node::on_node_thread;
use crate::package::lock::{self, LockFile, LockOptions};
use crate::package::{self, PackageError};
use crate::policy::SandboxPolicy;
use crate::sandbox::WasmEngine;
use crate::sandbox::component::describe;

/// What locking found.
#[derive(Debug, Clone)]
pub struct LockReport {
    /// The lock as written.
    pub lock: LockFile,
    /// Why each native-extension wheel cannot run in the sandbox, and which
    /// runtime could take it.
    pub refused: Vec<String>,
}

/// Lock the dependencies of the Python node at `path` (a package or
/// project directory, or a node file whose directory has the
/// `pyproject.toml`) and import every pure-Python one in the sandbox.
///
/// # Errors
/// [`Error::Package`] when resolving fails or the lock cannot be written;
/// [`Error::Node`] (stage create, named `lock check`) with the Python
/// traceback when a dependency fails to import in the sandbox.
pub fn lock(engine: &WasmEngine, path: &Path, options: &LockOptions) -> Result<LockReport, Error> {
    let package_error = |source| Error::Package { path: path.to_owned(), source };
    let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let root = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let lock = lock::lock(root, options).map_err(package_error)?;
    let refused: Vec<String> = lock.wheels.iter().filter(|w| !w.pure).map(lock::refusal).collect();
    let imports: Vec<&str> =
        lock.wheels.iter().filter(|w| w.pure).flat_map(|w| w.top_level.iter().map(String::as_str)).collect();
    if !imports.is_empty() {
        check_imports(engine, path, &imports, SandboxPolicy::default().init_timeout)?;
    }
    Ok(LockReport { lock, refused })
}

/// Import `modules` in the sandbox with the bundle of the node at `path`.
fn check_imports(engine: &WasmEngine, path: &Path, modules: &[&str], timeout: Duration) -> Result<(), Error> {
    let mut bundle =
        package::bundle_with(path, &package::BundleLimits::default()).map_err(|source: PackageError| Error::Package {
            path: path.to_owned(),
            source,
        })?;
    let source: String = modules.iter().map(|m| format!("import {m}\n")).collect();
    bundle.entry = "_nodehost_lock_check".into();
    bundle.entry_file = Some(("<nodehost lock: importing the dependencies>".into(), source));
    let text = bundle.encode();
    let component = engine.builtin(&nodehost_artifacts::PYTHON, engine.default_kind())?;
    let name = "lock-check.py".to_owned();
    on_node_thread(|| describe(&component, Some((&name, &text)), timeout)).map(drop).map_err(|failure| Error::Node {
        node: format!("lock check of {}", path.display()),
        stage: Stage::Create,
        failure,
    })
}
