//! `runtime = "auto"`: where each such Python node runs, chosen before the
//! run and said with the reason. Safest first:
//!
//! 1. the RustPython sandbox (`wasm`), when none of the node's imports is a
//!    standard-library module the compatibility checks (`nodehost compat`,
//!    `docs/compat.json`) show behaving differently there, and a trial
//!    load there (module, `__init__`) succeeds;
//! 2. the CPython sandbox (`wasm-cpython`), when the RustPython one cannot
//!    run the node, or first when the node says `prefer = "speed"`, or
//!    imports a module the RustPython sandbox runs in Python where CPython
//!    has C ([`SLOW_IN_RUSTPYTHON`]: ten times the CPython sandbox's time
//!    and more) and does not say `prefer = "sandbox"`;
//! 3. un-sandboxed CPython (`cpython`), only for a node the manifest marks
//!    `trusted = true` on a host started with `--allow-unsandboxed`, and only
//!    when no sandbox can run it (a native extension from its `venv`).
//!
//! A node no runtime can run is refused with each runtime's reason; a
//! mistake that is the node's own on every runtime (no such class, wrong
//! parameters) is reported as it is. A node's `venv` counts only on
//! `cpython`: the sandboxes are tried without it, and a node that lands in
//! one runs without it.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::{Error, GuestErrorKind, NodeFailure, describe_refusals};
use crate::factory::{NodeSource, NodeSpec, Runtime};
use crate::manifest::{AutoRuntime, HostPermissions, Pipeline};
use crate::node::on_node_thread;
use crate::sandbox::WasmEngine;

/// Where one node of a pipeline runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeChoice {
    /// The node's id.
    pub node: String,
    /// The runtime it runs on.
    pub runtime: Runtime,
    /// Why: the manifest named it, or how `auto` chose it.
    pub reason: String,
    /// Whether `runtime = "auto"` chose it.
    pub auto: bool,
}

/// Choose a runtime for every `runtime = "auto"` node of `pipeline` (its
/// specs are updated) and say where every node runs. Trial loads create
/// each such node once and drop it.
///
/// # Errors
/// [`Error::NoRuntime`] for a node no runtime can run.
pub fn choose_runtimes(
    pipeline: &mut Pipeline,
    engine: &WasmEngine,
    permissions: &HostPermissions,
) -> Result<Vec<RuntimeChoice>, Error> {
    let mut choices = Vec::with_capacity(pipeline.nodes.len());
    for node in &mut pipeline.nodes {
        let (runtime, reason, auto) = match node.auto {
            None => (node.spec.runtime, "as the manifest says (or the default)".to_owned(), false),
            Some(auto) => {
                let (runtime, reason) = choose(&node.spec, auto, engine, permissions)?;
                if runtime != Runtime::Cpython {
                    node.spec = without_venv(&node.spec);
                }
                node.spec.runtime = runtime;
                node.auto = None;
                (runtime, format!("auto: {reason}"), true)
            }
        };
        choices.push(RuntimeChoice { node: node.spec.id.clone(), runtime, reason, auto });
    }
    Ok(choices)
}

/// Standard-library modules the RustPython sandbox implements in Python
/// where CPython has a C module, and so runs far slower than the CPython
/// sandbox does: a node importing one (or a submodule) goes to the CPython
/// sandbox first. Measured on nodes using each (best of three, the same
/// work on each runtime): `decimal` arithmetic and quantizing took 56 times
/// the CPython sandbox's time (131 times native CPython's), parsing XML
/// with `xml.etree.ElementTree` 10 times; of 28 other modules none took
/// more than 4.6 times (RustPython's interpreter is slower throughout).
const SLOW_IN_RUSTPYTHON: &[&str] = &["decimal", "xml.etree"];

/// The first module of [`SLOW_IN_RUSTPYTHON`] the node imports, if any.
fn slow_in_rustpython(spec: &NodeSpec) -> Option<String> {
    let NodeSource::Python { source, .. } = &spec.source else { return None };
    imported_modules(source).into_iter().find(|module| {
        SLOW_IN_RUSTPYTHON
            .iter()
            .any(|slow| module == slow || module.strip_prefix(slow).is_some_and(|rest| rest.starts_with('.')))
    })
}

/// The runtime for one `auto` node, and why.
fn choose(spec: &NodeSpec, auto: AutoRuntime, engine: &WasmEngine, permissions: &HostPermissions) -> Result<(Runtime, String), Error> {
    let slow = if auto.prefer_speed || auto.prefer_sandbox { None } else { slow_in_rustpython(spec) };
    let sandboxes = if auto.prefer_speed || slow.is_some() {
        [Runtime::WasmCpython, Runtime::Wasm]
    } else {
        [Runtime::Wasm, Runtime::WasmCpython]
    };
    let mut refused: Vec<(&'static str, String)> = Vec::new();
    for runtime in sandboxes {
        if let Some(why) = runtime.unavailable_reason() {
            refused.push((runtime.as_str(), format!("unavailable: {why}")));
            continue;
        }
        if runtime == Runtime::Wasm {
            let gaps = compat_gaps(spec, "wasm");
            if !gaps.is_empty() {
                refused.push((runtime.as_str(), format!("it imports {}", gaps.join(", "))));
                continue;
            }
        }
        match trial_load(spec, runtime, engine) {
            Ok(()) => {
                let reason = match (runtime, refused.is_empty()) {
                    (Runtime::Wasm, true) => "it loads in the RustPython sandbox, the safest".to_owned(),
                    (Runtime::WasmCpython, true) => match &slow {
                        Some(module) => format!(
                            "it imports {module}, which the RustPython sandbox runs in Python (CPython has C): CPython in the sandbox, where it loads"
                        ),
                        None => "prefer = \"speed\": CPython in the sandbox, where it loads".to_owned(),
                    },
                    _ => format!("it loads here, in the sandbox; {}", describe_refusals(&refused)),
                };
                return Ok((runtime, reason));
            }
            Err(TrialFailure::Here(why)) => refused.push((runtime.as_str(), why)),
            Err(TrialFailure::Everywhere(e)) => return Err(e),
        }
    }
    let cpython = Runtime::Cpython;
    let refusal = if !auto.trusted {
        Some("the manifest does not mark the node trusted = true".to_owned())
    } else if !permissions.allow_unsandboxed {
        Some("the host was not started with --allow-unsandboxed".to_owned())
    } else {
        cpython.unavailable_reason().map(|why| format!("unavailable: {why}"))
    };
    match refusal {
        Some(why) => refused.push((cpython.as_str(), why)),
        None => match trial_load(spec, cpython, engine) {
            Ok(()) => {
                let reason = format!("no sandbox can run it ({}); trusted, and the host allows un-sandboxed nodes", describe_refusals(&refused));
                return Ok((cpython, reason));
            }
            Err(TrialFailure::Here(why)) => refused.push((cpython.as_str(), why)),
            Err(TrialFailure::Everywhere(e)) => return Err(e),
        },
    }
    Err(Error::NoRuntime { node: spec.id.clone(), refused })
}

/// Why a trial load failed.
enum TrialFailure {
    /// The first line of the error, on this runtime.
    Here(String),
    /// The node's own mistake, the same on every runtime (no such node
    /// class, wrong parameters): reported as it is.
    Everywhere(Error),
}

/// Create the node on `runtime` and drop it.
fn trial_load(spec: &NodeSpec, runtime: Runtime, engine: &WasmEngine) -> Result<(), TrialFailure> {
    let mut trial = if runtime == Runtime::Cpython { spec.clone() } else { without_venv(spec) };
    trial.runtime = runtime;
    on_node_thread(|| trial.create(engine).map(drop)).map_err(|e| match e {
        Error::Node { failure: NodeFailure::Guest(ref g), .. }
            if matches!(g.kind, GuestErrorKind::UnknownType | GuestErrorKind::InvalidParams) =>
        {
            TrialFailure::Everywhere(e)
        }
        Error::Node { failure, .. } => TrialFailure::Here(failure.to_string().lines().next().unwrap_or_default().to_owned()),
        other => TrialFailure::Here(other.to_string().lines().next().unwrap_or_default().to_owned()),
    })
}

/// `spec` without its virtual environment, which only `cpython` uses: a
/// sandbox runs the node with what the sandbox has.
fn without_venv(spec: &NodeSpec) -> NodeSpec {
    let mut spec = spec.clone();
    if let NodeSource::Python { venv, .. } = &mut spec.source {
        *venv = None;
    }
    spec
}

/// The standard-library modules the node imports that the compatibility
/// checks show not behaving on `runtime` as on CPython, with what the
/// checks found.
fn compat_gaps(spec: &NodeSpec, runtime: &str) -> Vec<String> {
    let NodeSource::Python { source, .. } = &spec.source else { return Vec::new() };
    let compat = compat();
    let mut gaps = Vec::new();
    for module in imported_modules(source) {
        let top = module.split('.').next().unwrap_or_default();
        for key in [module.as_str(), top] {
            if let Some(status) = compat.get(key).and_then(|by_runtime| by_runtime.get(runtime))
                && status != "ok"
            {
                let status: String = status.chars().take(120).collect();
                let gap = format!("{module} ({status})");
                if !gaps.contains(&gap) {
                    gaps.push(gap);
                }
                break;
            }
        }
    }
    gaps
}

/// The compatibility matrix: module -> runtime -> "ok", or what went wrong
/// (the error, or where the output departs from CPython's).
fn compat() -> &'static HashMap<String, HashMap<String, String>> {
    static COMPAT: OnceLock<HashMap<String, HashMap<String, String>>> = OnceLock::new();
    COMPAT.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Matrix {
            modules: HashMap<String, HashMap<String, String>>,
        }
        serde_json::from_str::<Matrix>(include_str!("../../../docs/compat.json")).map(|m| m.modules).unwrap_or_default()
    })
}

/// The absolute module names a node's source imports (`import a.b`,
/// `from a.b import c`), at any indentation; for a bundle, those of all its
/// modules that are not the bundle's own.
fn imported_modules(source: &str) -> Vec<String> {
    let mut own = Vec::new();
    let mut sources = Vec::new();
    match source.strip_prefix(crate::package::BUNDLE_HEADER) {
        Some(json) => {
            let bundle: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
            if let Some(modules) = bundle.get("modules").and_then(|m| m.as_object()) {
                for (name, entry) in modules {
                    own.push(name.split('.').next().unwrap_or_default().to_owned());
                    if let Some(text) = entry.get(2).and_then(|s| s.as_str()) {
                        sources.push(text.to_owned());
                    }
                }
            }
            if let Some(text) = bundle.get("source").and_then(|s| s.as_str()) {
                sources.push(text.to_owned());
            }
        }
        None => sources.push(source.to_owned()),
    }
    let mut modules: Vec<String> = Vec::new();
    for text in &sources {
        for line in text.lines().map(str::trim_start) {
            let names: Vec<&str> = if let Some(rest) = line.strip_prefix("import ") {
                rest.split(',').map(|part| part.split_whitespace().next().unwrap_or_default()).collect()
            } else if let Some(rest) = line.strip_prefix("from ") {
                rest.split_whitespace().next().into_iter().collect()
            } else {
                continue;
            };
            for name in names {
                let valid = !name.is_empty()
                    && !name.starts_with('.')
                    && name.split('.').all(|part| part.chars().all(|c| c.is_alphanumeric() || c == '_') && !part.is_empty());
                if valid && !own.iter().any(|o| o == name.split('.').next().unwrap_or_default()) && !modules.iter().any(|m| m == name) {
                    modules.push(name.to_owned());
                }
            }
        }
    }
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_from_every_form() {
        let source = "import os, sys as system\nfrom xml.etree import ElementTree\nfrom . import sibling\n\
                      def f():\n    import urllib.parse\n    from json import dumps\n# import commented\nx = 'import nothing'\n";
        assert_eq!(imported_modules(source), ["os", "sys", "xml.etree", "urllib.parse", "json"]);
    }

    #[test]
    fn modules_slow_in_rustpython_are_found_with_their_submodules_only() {
        let slow = |source: &str| {
            let spec = NodeSpec::python("n", "n.py", source, "N", Runtime::Wasm);
            slow_in_rustpython(&spec)
        };
        assert_eq!(slow("import json\nfrom decimal import Decimal\n").as_deref(), Some("decimal"));
        assert_eq!(slow("import xml.etree.ElementTree as ET\n").as_deref(), Some("xml.etree.ElementTree"));
        assert_eq!(slow("from xml.etree import ElementTree\n").as_deref(), Some("xml.etree"));
        assert_eq!(slow("import xml.dom.minidom\nimport decimalish\nimport xml.etreeish\n"), None);
        assert_eq!(slow("x = 'import decimal'\n"), None);
    }

    #[test]
    fn the_compat_matrix_is_there() {
        assert!(compat().get("json").is_some_and(|r| r.get("wasm").is_some_and(|s| s == "ok")));
    }
}
