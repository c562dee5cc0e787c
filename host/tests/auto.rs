//! `runtime = "auto"` through `nodehost plan` and `nodehost run`, as a user
//! runs them: each Python node's runtime chosen safest first, with the
//! reason, and one error naming every runtime's refusal when none fits.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;
use nodehost::Runtime;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `nodehost <command> pipeline.toml <args>` on a one-node manifest whose
/// node is `node.py` with these extra settings.
fn nodehost(dir: &Path, command: &str, node_lines: &str, args: &[&str]) -> Output {
    let manifest = dir.join("pipeline.toml");
    write(&manifest, &format!("[input]\nvalues = [2]\n\n[[node]]\nid = \"n\"\npython = \"node.py\"\nruntime = \"auto\"\n{node_lines}"));
    Command::new(env!("CARGO_BIN_EXE_nodehost")).arg(command).arg(&manifest).args(args).output().unwrap()
}

/// The runtime and reason `nodehost plan` gives the node.
fn plan(dir: &Path, node_lines: &str, args: &[&str]) -> (String, String) {
    let out = nodehost(dir, "plan", node_lines, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}{}", text, String::from_utf8_lossy(&out.stderr));
    let line = text.lines().find(|l| l.starts_with("n ")).unwrap_or_else(|| panic!("{text}")).to_owned();
    let mut parts = line.split_whitespace();
    parts.next();
    let runtime = parts.next().unwrap().to_owned();
    (runtime, parts.collect::<Vec<_>>().join(" "))
}

fn node(dir: &Path, source: &str) {
    write(&dir.join("node.py"), &format!("{source}\n\nclass Node:\n    def process(self, x):\n        return x * 2\n"));
}

#[test]
fn a_node_the_rustpython_sandbox_runs_stays_there() {
    let scratch = scratch_dir("auto-wasm");
    node(scratch.path(), "import json\nfrom collections import OrderedDict");
    let (runtime, why) = plan(scratch.path(), "", &[]);
    assert_eq!(runtime, "wasm");
    assert!(why.contains("loads in the RustPython sandbox"), "{why}");
    // `run` says the same at start, and runs it there.
    let out = nodehost(scratch.path(), "run", "", &[]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "4");
    assert!(String::from_utf8_lossy(&out.stderr).contains("runs on 'wasm': auto:"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_module_rustpython_lacks_moves_the_node_to_the_cpython_sandbox() {
    if !Runtime::WasmCpython.is_available() {
        eprintln!("skipped: wasm-cpython is unavailable");
        return;
    }
    let scratch = scratch_dir("auto-sqlite");
    node(scratch.path(), "import sqlite3");
    let (runtime, why) = plan(scratch.path(), "", &[]);
    assert_eq!(runtime, "wasm-cpython");
    assert!(why.contains("wasm: it imports sqlite3 (ModuleNotFoundError: No module named '_sqlite3'"), "{why}");

    // prefer = "speed" goes there first.
    let scratch = scratch_dir("auto-speed");
    node(scratch.path(), "import json");
    let (runtime, why) = plan(scratch.path(), "prefer = \"speed\"\n", &[]);
    assert_eq!(runtime, "wasm-cpython");
    assert!(why.contains("prefer = \"speed\""), "{why}");
}

#[test]
fn a_node_importing_a_module_rustpython_runs_in_python_goes_to_the_cpython_sandbox_unless_told() {
    if !Runtime::WasmCpython.is_available() {
        eprintln!("skipped: wasm-cpython is unavailable");
        return;
    }
    for source in ["from decimal import Decimal", "import xml.etree.ElementTree as ET"] {
        let scratch = scratch_dir("auto-slow");
        node(scratch.path(), source);
        let (runtime, why) = plan(scratch.path(), "", &[]);
        assert_eq!(runtime, "wasm-cpython", "{source}");
        assert!(why.contains("which the RustPython sandbox runs in Python"), "{why}");
        // prefer = "sandbox" keeps it in the RustPython sandbox.
        let (runtime, why) = plan(scratch.path(), "prefer = \"sandbox\"\n", &[]);
        assert_eq!(runtime, "wasm", "{source}");
        assert!(why.contains("loads in the RustPython sandbox"), "{why}");
    }
    // It runs there, and says why at start.
    let scratch = scratch_dir("auto-decimal-run");
    let source = "from decimal import Decimal\n\nclass Node:\n    def process(self, x):\n        return str(Decimal(x) / 8)\n";
    write(&scratch.path().join("node.py"), source);
    let out = nodehost(scratch.path(), "run", "", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"0.25\"");
    assert!(String::from_utf8_lossy(&out.stderr).contains("runs on 'wasm-cpython': auto: it imports decimal"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_node_no_runtime_can_load_gets_every_runtimes_reason() {
    let scratch = scratch_dir("auto-none");
    node(scratch.path(), "import no_such_module_anywhere");
    let out = nodehost(scratch.path(), "plan", "", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("node 'n': no runtime can run it"), "{err}");
    assert!(err.contains("wasm: ") && err.contains("No module named 'no_such_module_anywhere'"), "{err}");
    assert!(err.contains("cpython: the manifest does not mark the node trusted = true"), "{err}");
    if Runtime::WasmCpython.is_available() {
        assert!(err.contains("wasm-cpython: "), "{err}");
    }
}

/// A trusted node whose package only its venv has (as a native extension
/// would be): un-sandboxed CPython, only when the host allows it.
#[test]
fn only_a_trusted_node_on_an_allowing_host_leaves_the_sandbox() {
    let scratch = scratch_dir("auto-trusted");
    let dir = scratch.path();
    let status = Command::new("python3").args(["-m", "venv", "--without-pip"]).arg(dir.join("env")).status().unwrap();
    assert!(status.success());
    let lib = std::fs::read_dir(dir.join("env/lib")).unwrap().next().unwrap().unwrap().path();
    write(&lib.join("site-packages/only_in_env.py"), "FACTOR = 3\n");
    write(&dir.join("node.py"), "import only_in_env\n\nclass Node:\n    def process(self, x):\n        return x * only_in_env.FACTOR\n");
    let lines = "trusted = true\nvenv = \"env\"\n";

    let out = nodehost(dir, "plan", lines, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cpython: the host was not started with --allow-unsandboxed"), "{err}");

    let (runtime, why) = plan(dir, lines, &["--allow-unsandboxed"]);
    assert_eq!(runtime, "cpython");
    assert!(why.contains("no sandbox can run it") && why.contains("only_in_env"), "{why}");
    let out = nodehost(dir, "run", lines, &["--allow-unsandboxed"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "6", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn auto_is_for_python_nodes_and_prefer_for_auto() {
    let scratch = scratch_dir("auto-bad");
    let manifest = scratch.path().join("p.toml");
    write(&manifest, "[input]\nvalues = [1]\n\n[[node]]\nid = \"r\"\nrust = \"calculator\"\nruntime = \"auto\"\n");
    let err = nodehost::manifest::load(&manifest).unwrap_err().to_string();
    assert!(err.contains("runtime \"auto\" is for Python nodes") && err.contains("line 7"), "{err}");
    node(scratch.path(), "import json");
    write(&manifest, "[input]\nvalues = [1]\n\n[[node]]\nid = \"p\"\npython = \"node.py\"\nprefer = \"speed\"\n");
    let err = nodehost::manifest::load(&manifest).unwrap_err().to_string();
    assert!(err.contains("'prefer' applies to runtime = \"auto\" only"), "{err}");
    write(&manifest, "[input]\nvalues = [1]\n\n[[node]]\nid = \"p\"\npython = \"node.py\"\nruntime = \"fast\"\n");
    let err = nodehost::manifest::load(&manifest).unwrap_err().to_string();
    assert!(err.contains("unknown runtime 'fast'") && err.contains("or auto"), "{err}");
}
