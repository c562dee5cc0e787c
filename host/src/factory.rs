//! The one place that knows every runtime: [`Runtime`] (where a node runs,
//! and which kinds of node source each one accepts), [`NodeSource`] and
//! [`NodeSpec`] (what to create a node from), and [`NodeSpec::create`],
//! which turns a spec into a `Box<dyn Node>`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use nodehost_sdk::Value;
use serde::Deserialize;

use crate::error::{Error, NodeFailure, Stage};
use crate::log::{GuestLog, route_native_logs};
use crate::node::Node;
use crate::policy::SandboxPolicy;
use crate::runtime::native_rust::NativeRustNode;
use crate::runtime::wasm::{OwnedWasmSource, WasmNode, WasmSource};
use crate::sandbox::LoadedComponent;
use crate::sandbox::engine::WasmEngine;

/// Where a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// Inside a Wasm component under wasmtime, in the sandbox (the default).
    #[default]
    Wasm,
    /// Python on RustPython linked into the host: no sandbox.
    NativeRustpython,
    /// Python on CPython through PyO3: no sandbox.
    Cpython,
    /// A Rust node linked into the host: no sandbox.
    Native,
    /// Python on CPython in a component built with componentize-py (a peer
    /// of the RustPython guest), in the sandbox. The build makes the
    /// component with `scripts/build-wasm-cpython.sh` (see
    /// [`wasm_cpython_component`]); `$NODEHOST_WASM_CPYTHON` names another.
    WasmCpython,
}

/// What kind of source a node is made of, as far as choosing a runtime goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A Python node class.
    Python,
    /// A built-in Rust node.
    Builtin,
    /// A node type from a component file.
    Component,
}

impl SourceKind {
    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            SourceKind::Python => "a Python node",
            SourceKind::Builtin => "a built-in Rust node",
            SourceKind::Component => "a component node",
        }
    }
}

impl Runtime {
    /// Every runtime, in the order help texts list them.
    pub const ALL: [Runtime; 5] =
        [Runtime::Wasm, Runtime::WasmCpython, Runtime::NativeRustpython, Runtime::Cpython, Runtime::Native];

    /// The name used in manifests and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Wasm => "wasm",
            Runtime::NativeRustpython => "native-rustpython",
            Runtime::Cpython => "cpython",
            Runtime::Native => "native",
            Runtime::WasmCpython => "wasm-cpython",
        }
    }

    /// Whether this runtime can run nodes made of `kind`: the one rule the
    /// manifest check, the factory, the CLI help and the docs use.
    pub fn accepts(self, kind: SourceKind) -> bool {
        match kind {
            SourceKind::Python => {
                matches!(self, Runtime::Wasm | Runtime::WasmCpython | Runtime::NativeRustpython | Runtime::Cpython)
            }
            SourceKind::Builtin => matches!(self, Runtime::Wasm | Runtime::Native),
            SourceKind::Component => self == Runtime::Wasm,
        }
    }

    /// The runtimes that accept `kind`, as a list for messages and help
    /// (`wasm, wasm-cpython, ...`).
    pub fn names_accepting(kind: SourceKind) -> String {
        Runtime::ALL.iter().filter(|r| r.accepts(kind)).map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Whether a node on this runtime is isolated in the sandbox.
    pub fn is_sandboxed(self) -> bool {
        matches!(self, Runtime::Wasm | Runtime::WasmCpython)
    }

    /// Whether this build can run nodes on this runtime.
    pub fn is_available(self) -> bool {
        self.unavailable_reason().is_none()
    }

    /// Why this build cannot run nodes on this runtime, if it cannot.
    pub fn unavailable_reason(self) -> Option<String> {
        match self {
            Runtime::Wasm | Runtime::Native => None,
            Runtime::NativeRustpython => {
                (!cfg!(feature = "native-rustpython")).then(|| "built without the 'native-rustpython' feature".into())
            }
            Runtime::Cpython => (!cfg!(feature = "cpython")).then(|| "built without the 'cpython' feature".into()),
            Runtime::WasmCpython => match (wasm_cpython_override(), nodehost_artifacts::WASM_CPYTHON) {
                (Some(p), _) if !p.is_file() => Some(format!("NODEHOST_WASM_CPYTHON names {}, which is not a file", p.display())),
                (Some(_), _) => None,
                (None, Ok(built)) if !Path::new(built).is_file() => Some(format!(
                    "the component built with nodehost ({built}) is gone: rebuild nodehost, run \
                     scripts/build-wasm-cpython.sh, or set NODEHOST_WASM_CPYTHON to a built one"
                )),
                (None, Ok(_)) => None,
                (None, Err(why)) => Some(format!("the componentize-py component was {why}; or set NODEHOST_WASM_CPYTHON to a built one")),
            },
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Runtime::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Runtime::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown runtime '{s}' ({})", names.join(", "))
        })
    }
}

/// The componentize-py CPython component for the `wasm-cpython` runtime:
/// `$NODEHOST_WASM_CPYTHON` when set, else the one built with nodehost
/// (`nodehost_artifacts::WASM_CPYTHON`), if there is one.
pub fn wasm_cpython_component() -> Option<PathBuf> {
    wasm_cpython_override().or_else(|| nodehost_artifacts::WASM_CPYTHON.ok().map(PathBuf::from))
}

/// The site-packages directory of virtual environment `venv` for the Python
/// the `cpython` runtime embeds (node `id`'s, for errors).
fn venv_site_packages(id: &str, venv: &Path) -> Result<PathBuf, Error> {
    let fail = |message: String| Error::Venv { node: id.to_owned(), path: venv.to_owned(), message };
    #[cfg(feature = "cpython")]
    let version = Some(crate::runtime::cpython::python_version());
    #[cfg(not(feature = "cpython"))]
    let version: Option<(u8, u8)> = None;
    let Some((major, minor)) = version else {
        return Err(fail("this build has no cpython runtime".into()));
    };
    let site_packages = venv.join("lib").join(format!("python{major}.{minor}")).join("site-packages");
    if !site_packages.is_dir() {
        let made_for = std::fs::read_to_string(venv.join("pyvenv.cfg"))
            .ok()
            .and_then(|cfg| cfg.lines().find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == "version").map(|(_, v)| v.trim().to_owned())))
            .map_or_else(String::new, |v| format!(" (it was made for Python {v})"));
        return Err(fail(format!(
            "it has no {} for the Python {major}.{minor} this host embeds{made_for}: make it with that Python \
             (`python{major}.{minor} -m venv`) and install the node's packages into it",
            site_packages.strip_prefix(venv).unwrap_or(&site_packages).display()
        )));
    }
    Ok(site_packages)
}

/// `$NODEHOST_WASM_CPYTHON`, when set.
fn wasm_cpython_override() -> Option<PathBuf> {
    std::env::var_os("NODEHOST_WASM_CPYTHON").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// What a node is made of.
#[derive(Debug, Clone)]
pub enum NodeSource {
    /// A Python node class, with its module's source.
    Python {
        /// The module's file, or the node's package directory (names it in
        /// tracebacks).
        file: PathBuf,
        /// The module's source, or an encoded bundle of the node's modules
        /// and dependencies ([`crate::package`]), which every Python
        /// runtime's helper module recognizes.
        source: Arc<str>,
        /// The node class; empty when the module has only one.
        class: String,
        /// For the `cpython` runtime: a virtual environment whose packages
        /// the node may import (native extensions included). Its
        /// site-packages joins the interpreter's path, which every
        /// `cpython` node of the process shares.
        venv: Option<PathBuf>,
    },
    /// One of the built-in Rust nodes (`gain`, `calculator`, ...).
    Builtin {
        /// The node type's name.
        node_type: String,
    },
    /// A node type from a component file (a Rust node built by a user).
    Component {
        /// The component file.
        path: PathBuf,
        /// The node type's name; empty when the component has only one.
        node_type: String,
    },
}

impl NodeSource {
    /// Its kind, for choosing a runtime.
    pub fn kind(&self) -> SourceKind {
        match self {
            NodeSource::Python { .. } => SourceKind::Python,
            NodeSource::Builtin { .. } => SourceKind::Builtin,
            NodeSource::Component { .. } => SourceKind::Component,
        }
    }
}

/// Everything needed to create one node. `Send`, so a pipeline can create
/// each node on the thread that runs it.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// The node's id (names it in logs and errors).
    pub id: String,
    /// What it is made of.
    pub source: NodeSource,
    /// Where it runs.
    pub runtime: Runtime,
    /// Its parameters (a map, or null for none).
    pub params: Value,
    /// What it may use.
    pub policy: SandboxPolicy,
}

impl NodeSpec {
    /// A Python node from a file's source.
    pub fn python(id: &str, file: impl Into<PathBuf>, source: &str, class: &str, runtime: Runtime) -> Self {
        NodeSpec {
            id: id.to_owned(),
            source: NodeSource::Python { file: file.into(), source: source.into(), class: class.to_owned(), venv: None },
            runtime,
            params: Value::Null,
            policy: SandboxPolicy::default(),
        }
    }

    /// A Python node from a path: a `.py` file (the modules and packages
    /// beside it importable) or a package directory, read with its locked
    /// dependencies into one bundle now ([`crate::package::load_node`]).
    ///
    /// # Errors
    /// [`Error::Package`] when the node's files or lock cannot be read.
    pub fn python_path(id: &str, path: impl Into<PathBuf>, class: &str, runtime: Runtime) -> Result<Self, Error> {
        let path = path.into();
        let code = crate::package::load_node(&path).map_err(|source| Error::Package { path: path.clone(), source })?;
        Ok(NodeSpec::python(id, code.file, &code.text, class, runtime))
    }

    /// A built-in Rust node.
    pub fn builtin(id: &str, node_type: &str, runtime: Runtime) -> Self {
        NodeSpec {
            id: id.to_owned(),
            source: NodeSource::Builtin { node_type: node_type.to_owned() },
            runtime,
            params: Value::Null,
            policy: SandboxPolicy::default(),
        }
    }

    /// The same spec with parameters.
    #[must_use]
    pub fn with_params(mut self, params: Value) -> Self {
        self.params = params;
        self
    }

    /// The same spec with a policy.
    #[must_use]
    pub fn with_policy(mut self, policy: SandboxPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy the node runs under: the spec's, with what it leaves to
    /// the runtime decided. `interruptible` unset is on in the RustPython
    /// sandbox, whose interruption checkpoint costs about 0.1% (see
    /// [`SandboxPolicy::interruptible`]), and off elsewhere.
    pub fn effective_policy(&self) -> SandboxPolicy {
        let mut policy = self.policy.clone();
        let cheap = self.runtime == Runtime::Wasm && matches!(self.source, NodeSource::Python { .. });
        policy.interruptible.get_or_insert(cheap);
        policy
    }

    /// Check that the runtime accepts the source and the policy makes
    /// sense, without creating anything.
    ///
    /// # Errors
    /// [`Error::RuntimeMismatch`] or [`Error::Policy`].
    pub fn check(&self) -> Result<(), Error> {
        let kind = self.source.kind();
        if !self.runtime.accepts(kind) {
            return Err(Error::RuntimeMismatch {
                node: self.id.clone(),
                runtime: self.runtime.as_str(),
                source_kind: kind.describe(),
                accepted: Runtime::names_accepting(kind),
            });
        }
        if let (NodeSource::Python { venv: Some(venv), .. }, runtime) = (&self.source, self.runtime)
            && runtime != Runtime::Cpython
        {
            return Err(Error::Venv {
                node: self.id.clone(),
                path: venv.clone(),
                message: format!("only the cpython runtime imports packages from a virtual environment; this node runs on '{runtime}'"),
            });
        }
        self.policy.check().map_err(|message| Error::Policy { node: self.id.clone(), message })
    }

    /// Create the node. Call this on the thread that will call the node.
    ///
    /// # Errors
    /// When the spec does not check out, the runtime is unavailable, the
    /// component cannot be loaded, or the node fails while being created.
    pub fn create(&self, engine: &WasmEngine) -> Result<Box<dyn Node>, Error> {
        self.check()?;
        if let Some(reason) = self.runtime.unavailable_reason() {
            return Err(Error::RuntimeUnavailable { runtime: self.runtime.as_str(), reason });
        }
        let fail = |failure: NodeFailure| Error::Node { node: self.id.clone(), stage: Stage::Create, failure };
        let policy = self.effective_policy();
        let wasm = |component: Arc<LoadedComponent>, source: WasmSource<'_>| -> Result<Box<dyn Node>, Error> {
            let node = WasmNode::new(&component, &self.id, source, self.params.clone(), &policy).map_err(fail)?;
            // The same node made again, for a batch that lost its instance.
            let (id, params, policy) = (self.id.clone(), self.params.clone(), policy.clone());
            let source = OwnedWasmSource::from(&source);
            let recreate = move || WasmNode::new(&component, &id, source.borrowed(), params.clone(), &policy);
            Ok(Box::new(node.with_recreate(Box::new(recreate))))
        };
        let kind = engine.kind_for(&policy);
        match (&self.source, self.runtime) {
            (NodeSource::Python { file, source, class, .. }, Runtime::Wasm | Runtime::WasmCpython) => {
                let component = if self.runtime == Runtime::Wasm {
                    engine.python(&policy)?
                } else {
                    let path = wasm_cpython_component().expect("checked available above");
                    engine.load_file(&path, kind)?
                };
                let filename = file.display().to_string();
                wasm(component, WasmSource::Python { filename: &filename, source, class })
            }
            (NodeSource::Builtin { node_type }, _) if self.runtime == Runtime::Wasm => {
                wasm(engine.builtin(&nodehost_artifacts::RUST_NODES, kind)?, WasmSource::NodeType(node_type))
            }
            (NodeSource::Component { path, node_type }, _) => {
                wasm(engine.load_file(path, kind)?, WasmSource::NodeType(node_type))
            }
            (NodeSource::Builtin { node_type }, _) => {
                route_native_logs(GuestLog::new(&self.id, self.policy.max_log_bytes));
                Ok(Box::new(NativeRustNode::new(node_type, self.params.clone()).map_err(fail)?))
            }
            (NodeSource::Python { file, source, class, venv }, runtime) => {
                let site_packages = venv.as_deref().map(|venv| venv_site_packages(&self.id, venv)).transpose()?;
                route_native_logs(GuestLog::new(&self.id, self.policy.max_log_bytes));
                self.create_native_python(runtime, &policy, file, source, class, site_packages.as_deref()).map_err(fail)
            }
        }
    }

    /// A Python node on one of the un-sandboxed runtimes.
    #[allow(unused_variables, clippy::unused_self)]
    fn create_native_python(
        &self,
        runtime: Runtime,
        policy: &SandboxPolicy,
        file: &Path,
        source: &str,
        class: &str,
        site_packages: Option<&Path>,
    ) -> Result<Box<dyn Node>, NodeFailure> {
        let params = self.params.clone();
        match runtime {
            #[cfg(feature = "native-rustpython")]
            Runtime::NativeRustpython => {
                Ok(Box::new(crate::runtime::rustpython::RustPythonNode::new(file, source, class, params, policy)?))
            }
            #[cfg(feature = "cpython")]
            Runtime::Cpython => {
                Ok(Box::new(crate::runtime::cpython::CPythonNode::new(file, source, class, params, policy, site_packages)?))
            }
            other => unreachable!("runtime {other} was checked to be available and to accept Python"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interruptible_left_unset_is_on_only_where_it_is_cheap() {
        let python = |runtime| NodeSpec::python("n", "n.py", "", "N", runtime);
        let decided = |spec: NodeSpec| spec.effective_policy().interruptible;
        assert_eq!(decided(python(Runtime::Wasm)), Some(true));
        assert_eq!(decided(python(Runtime::WasmCpython)), Some(false));
        assert_eq!(decided(python(Runtime::NativeRustpython)), Some(false));
        assert_eq!(decided(python(Runtime::Cpython)), Some(false));
        assert_eq!(decided(NodeSpec::builtin("n", "double", Runtime::Wasm)), Some(false));
        // What the spec says is kept.
        let off = SandboxPolicy { interruptible: Some(false), ..SandboxPolicy::default() };
        assert_eq!(decided(python(Runtime::Wasm).with_policy(off)), Some(false));
        let on = SandboxPolicy { interruptible: Some(true), ..SandboxPolicy::default() };
        assert_eq!(decided(python(Runtime::WasmCpython).with_policy(on)), Some(true));
    }
}
