//! `nodehost lock`: resolve a Python node's declared dependencies into
//! `nodehost.lock` ([`crate::package::lock`]), then check in the sandbox
//! that each pure-Python dependency imports, so a dependency that cannot
//! run there is reported now and not at a pipeline's first item. One that
//! does not import (it needs a native-extension dependency, say) is
//! refused for the sandbox, like a native wheel, with the import error:
//! the lock stands, for the runtimes that can load it.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, NodeFailure};
use crate::node::on_node_thread;
use crate::package::lock::{self, LockFile, LockOptions, LockedWheel};
use crate::package::{self, Bundle};
use crate::policy::SandboxPolicy;
use crate::sandbox::WasmEngine;
use crate::sandbox::component::describe;

/// What locking found.
#[derive(Debug, Clone)]
pub struct LockReport {
    /// The lock as written.
    pub lock: LockFile,
    /// Why each native-extension wheel, or pure-Python one that does not
    /// import there, cannot run in the sandbox, and which runtime could
    /// take it.
    pub refused: Vec<String>,
    /// Modules in the bundle the node now carries into the sandbox (its
    /// own and its pure-Python dependencies').
    pub bundle_modules: usize,
    /// The bundle's size in bytes, as the host passes it to the guest.
    pub bundle_bytes: usize,
}

/// Lock the dependencies of the Python node at `path` (a package or
/// project directory, or a node file whose directory has the
/// `pyproject.toml`) and import every pure-Python one in the sandbox.
///
/// # Errors
/// [`Error::Package`] when resolving fails, the lock cannot be written or
/// the node's files cannot be read; the engine's error when the sandbox's
/// Python component cannot be loaded for the check.
pub fn lock(engine: &WasmEngine, path: &Path, options: &LockOptions) -> Result<LockReport, Error> {
    let package_error = |source| Error::Package { path: path.to_owned(), source };
    let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let root = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let lock = lock::lock(root, options).map_err(package_error)?;
    // Read once (its files and wheels, hashes checked): every check and the
    // report's size use this one.
    let bundle = package::bundle_with(path, &package::BundleLimits::default()).map_err(package_error)?;
    let mut refused: Vec<String> = lock.wheels.iter().filter(|w| !w.pure).map(lock::refusal).collect();
    let pure: Vec<&LockedWheel> = lock.wheels.iter().filter(|w| w.pure && !w.top_level.is_empty()).collect();
    let timeout = SandboxPolicy::default().init_timeout;
    let all: Vec<&str> = pure.iter().flat_map(|w| w.top_level.iter().map(String::as_str)).collect();
    if !all.is_empty() && check_imports(engine, &bundle, &all, timeout)?.is_some() {
        // One at a time, to say which.
        for wheel in pure {
            let modules: Vec<&str> = wheel.top_level.iter().map(String::as_str).collect();
            if let Some(failure) = check_imports(engine, &bundle, &modules, timeout)? {
                refused.push(format!(
                    "{} {} does not import in the sandbox (runtime wasm): {failure}",
                    wheel.name, wheel.version
                ));
            }
        }
    }
    Ok(LockReport { lock, refused, bundle_modules: bundle.modules.len(), bundle_bytes: bundle.encode().len() })
}

/// Import `modules` in the sandbox with the node's `bundle`: `None` when
/// they all import, else how it failed (with the traceback).
fn check_imports(engine: &WasmEngine, bundle: &Bundle, modules: &[&str], timeout: Duration) -> Result<Option<String>, Error> {
    let mut bundle = bundle.clone();
    let source: String = modules.iter().map(|m| format!("import {m}\n")).collect();
    bundle.entry = "_nodehost_lock_check".into();
    bundle.entry_file = Some(("<nodehost lock: importing the dependencies>".into(), source));
    let text = bundle.encode();
    let component = engine.builtin(&nodehost_artifacts::PYTHON, engine.default_kind())?;
    let name = "lock-check.py".to_owned();
    Ok(on_node_thread(|| describe(&component, Some((&name, &text)), timeout)).err().map(|failure| match &failure {
        NodeFailure::Guest(e) => match &e.traceback {
            Some(traceback) => format!("{}\n{}", e.message, traceback.trim_end()),
            None => e.message.clone(),
        },
        other => other.to_string(),
    }))
}
