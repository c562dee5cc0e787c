//! Trusted CPython nodes import packages from a virtual environment their
//! manifest names (`venv = "path"`): through `nodehost run`, as a user runs
//! it. The environments are made here with the Python the host embeds
//! (`python3 -m venv --without-pip`, no network) and filled by hand; the
//! test with a real native extension from PyPI (numpy) needs the network:
//! `NODEHOST_NETWORK_TESTS=1 cargo test -p nodehost --test integration venv:: -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// A fresh virtual environment at `dir`; its site-packages directory.
fn make_venv(dir: &Path, with_pip: bool) -> PathBuf {
    let mut command = Command::new("python3");
    command.args(["-m", "venv"]);
    if !with_pip {
        command.arg("--without-pip");
    }
    let status = command.arg(dir).status().expect("running python3 -m venv");
    assert!(status.success(), "python3 -m venv {} failed", dir.display());
    let lib = std::fs::read_dir(dir.join("lib")).unwrap().next().unwrap().unwrap().path();
    lib.join("site-packages")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `nodehost run` on a manifest with one node, `node_lines` its settings.
fn run(dir: &Path, node_lines: &str, allow: bool) -> Output {
    let manifest = dir.join("pipeline.toml");
    write(&manifest, &format!("[input]\nvalues = [3]\n\n[[node]]\nid = \"n\"\npython = \"node.py\"\n{node_lines}"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_nodehost"));
    command.arg("run").arg(&manifest);
    if allow {
        command.arg("--allow-unsandboxed");
    }
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A package installed in the venv, and a module a `.pth` file in it
/// points to, are importable by the node; without the venv they are not.
#[test]
fn a_trusted_cpython_node_imports_from_its_venv() {
    let scratch = scratch_dir("venv");
    let dir = scratch.path();
    let site = make_venv(&dir.join("env"), false);
    write(&site.join("greeting_pkg/__init__.py"), "def greet(n):\n    return 'hello ' * n\n");
    write(&dir.join("elsewhere/extra_mod.py"), "WORD = 'extra'\n");
    write(&site.join("extra.pth"), &format!("{}\n", dir.join("elsewhere").display()));
    write(
        &dir.join("node.py"),
        "import greeting_pkg\nimport extra_mod\n\nclass Node:\n    def process(self, n):\n        return [greeting_pkg.greet(n).strip(), extra_mod.WORD, greeting_pkg.__file__.endswith('__init__.py')]\n",
    );
    let out = run(dir, "runtime = \"cpython\"\ntrusted = true\nvenv = \"env\"\n", true);
    assert_eq!(stdout(&out).trim(), r#"["hello hello hello","extra",true]"#);

    // Without it, the import fails and says which module.
    let out = run(dir, "runtime = \"cpython\"\ntrusted = true\n", true);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No module named 'greeting_pkg'"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A venv is refused where it cannot serve: on a sandboxed runtime, when
/// the directory is no virtual environment, and for another Python version.
#[test]
fn a_venv_that_cannot_serve_is_refused_clearly() {
    let scratch = scratch_dir("venv-bad");
    let dir = scratch.path();
    let site = make_venv(&dir.join("env"), false);
    write(&dir.join("node.py"), "class Node:\n    def process(self, n):\n        return n\n");

    let out = run(dir, "venv = \"env\"\n", false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("only the cpython runtime imports packages from a virtual environment"), "{err}");
    assert!(err.contains("'wasm'"), "{err}");

    std::fs::create_dir_all(dir.join("plain")).unwrap();
    let out = run(dir, "runtime = \"cpython\"\ntrusted = true\nvenv = \"plain\"\n", true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("is not a virtual environment (no pyvenv.cfg"), "{err}");
    assert!(err.contains("line 9, column 8"), "the error gives the line: {err}");

    // An environment made for another Python: its lib/pythonX.Y is not ours.
    let other = site.parent().unwrap().with_file_name("python2.7");
    std::fs::rename(site.parent().unwrap(), &other).unwrap();
    let cfg = dir.join("env/pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text: String = text.lines().filter(|l| !l.starts_with("version")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&cfg, format!("{text}version = 2.7.18\n")).unwrap();
    let out = run(dir, "runtime = \"cpython\"\ntrusted = true\nvenv = \"env\"\n", true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("for the Python 3."), "{err}");
    assert!(err.contains("made for Python 2.7.18"), "{err}");
}

/// A real native extension from PyPI: numpy, installed with pip into the
/// venv, used by a trusted CPython node.
#[test]
#[ignore = "needs the package index: NODEHOST_NETWORK_TESTS=1 cargo test -p nodehost --test integration venv:: -- --ignored"]
fn a_native_extension_from_pypi_runs_on_trusted_cpython() {
    if std::env::var_os("NODEHOST_NETWORK_TESTS").is_none_or(|v| v != "1") {
        eprintln!("skipped: set NODEHOST_NETWORK_TESTS=1");
        return;
    }
    let scratch = scratch_dir("venv-numpy");
    let dir = scratch.path();
    make_venv(&dir.join("env"), true);
    let status = Command::new(dir.join("env/bin/pip"))
        .args(["install", "--quiet", "numpy"])
        .status()
        .expect("running pip");
    assert!(status.success(), "pip install numpy failed");
    write(
        &dir.join("node.py"),
        "import numpy as np\n\nclass Node:\n    def process(self, n):\n        return float(np.linalg.norm(np.arange(n + 1, dtype=float)))\n",
    );
    let out = run(dir, "runtime = \"cpython\"\ntrusted = true\nvenv = \"env\"\n", true);
    let value: f64 = stdout(&out).trim().parse().unwrap();
    assert!((value - 14f64.sqrt()).abs() < 1e-12, "{value}");
}
