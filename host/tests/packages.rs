//! Python nodes as packages: a node file with modules beside it, a package
//! with a subpackage and relative imports, pure-Python dependencies from a
//! wheel locked with its hash, native wheels refused for the sandbox, and
//! errors that name the import chain, on every Python runtime. Every
//! fixture (the packages, the wheels) is built here in a scratch directory:
//! no network.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use nodehost::package::lock::{LOCK_FILE, LockFile, LockOptions, WHEEL_DIR};
use nodehost::package::{BundleLimits, PackageError, load_node, load_node_with};
use nodehost::{Error, NodeSpec, Runtime, Value};

/// Write `files` (path relative to `root`, contents) under `root`.
fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
}

/// A wheel of `name` 1.0 at `dir/<file>` holding `files` (path inside the
/// archive, contents) and the metadata pip needs.
fn write_wheel(dir: &Path, file: &str, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(file);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let info = format!("{name}-1.0.dist-info");
    let tag = file.trim_end_matches(".whl").splitn(3, '-').nth(2).unwrap().to_owned();
    let metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    let wheel = format!("Wheel-Version: 1.0\nGenerator: nodehost-tests\nRoot-Is-Purelib: true\nTag: {tag}\n");
    let mut record = String::new();
    let mut entries: Vec<(String, Vec<u8>)> = files.iter().map(|(p, b)| ((*p).to_owned(), b.to_vec())).collect();
    entries.push((format!("{info}/METADATA"), metadata.into_bytes()));
    entries.push((format!("{info}/WHEEL"), wheel.into_bytes()));
    for (p, bytes) in &entries {
        zip.start_file(p.as_str(), options).unwrap();
        zip.write_all(bytes).unwrap();
        record.push_str(&format!("{p},,\n"));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    zip.start_file(format!("{info}/RECORD"), options).unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

/// Run the node at `path` on `runtime` with `inputs`; its outputs.
fn run_path(id: &str, path: &Path, class: &str, runtime: Runtime, inputs: &str) -> Result<Vec<Value>, Error> {
    let spec = NodeSpec::python_path(id, path, class, runtime)?;
    let run = run_node(&spec, jsons(inputs))?;
    Ok(run.outputs())
}

/// The first failure of running the node (creating it, or an item).
fn failure_text(id: &str, path: &Path, class: &str, runtime: Runtime) -> String {
    let spec = NodeSpec::python_path(id, path, class, runtime).expect("the node's files read");
    match run_node(&spec, jsons("[1]")) {
        Err(e) => format!("{e}"),
        Ok(run) => match &run.items[0] {
            Err(e) => format!("{e}"),
            Ok(out) => panic!("{runtime}: expected a failure, got {out:?}"),
        },
    }
}

/// The issue's first report: `node.py` does `import helper` with
/// `helper.py` beside it; it also uses a package beside it.
#[test]
fn a_node_file_imports_the_modules_beside_it_on_every_runtime() {
    let scratch = scratch_dir("siblings");
    let root = scratch.path();
    write_tree(
        root,
        &[
            ("sibling_node.py", "import sibling_helper\nfrom sibling_util.maths import triple\n\nclass Node:\n    def process(self, x):\n        return [sibling_helper.double(x), triple(x)]\n"),
            ("sibling_helper.py", "def double(x):\n    return 2 * x\n"),
            ("sibling_util/__init__.py", ""),
            ("sibling_util/maths.py", "def triple(x):\n    return 3 * x\n"),
            // Left out: tests, hidden directories, environments.
            ("tests/test_node.py", "raise SystemExit('tests are not bundled')\n"),
            (".venv/lib/x.py", "raise SystemExit('environments are not bundled')\n"),
        ],
    );
    let node = root.join("sibling_node.py");
    let code = load_node(&node).unwrap();
    let bundle = code.bundle.expect("modules beside the node make a bundle");
    let names: Vec<&str> = bundle.modules.keys().map(String::as_str).collect();
    assert_eq!(names, ["sibling_helper", "sibling_util", "sibling_util.maths"]);
    for runtime in PYTHON_RUNTIMES {
        let out = run_path("siblings", &node, "", runtime, "[1, 5]").unwrap_or_else(|e| panic!("{runtime}: {e}"));
        assert_eq!(out, jsons("[[2, 3], [10, 15]]"), "{runtime}");
    }
}

/// A lone node file still loads as its plain source: no bundle, nothing
/// extra to carry.
#[test]
fn a_lone_node_file_is_its_plain_source() {
    let scratch = scratch_dir("lone");
    let node = scratch.path().join("lone.py");
    std::fs::write(&node, "class Lone:\n    def process(self, x):\n        return x\n").unwrap();
    let code = load_node(&node).unwrap();
    assert!(code.bundle.is_none());
    assert_eq!(code.text, std::fs::read_to_string(&node).unwrap());
}

/// The package the tests below use: a subpackage, relative imports in both
/// directions, a class re-exported by `__init__` and one only in a
/// submodule.
fn write_package(root: &Path, name: &str) -> PathBuf {
    let files = [
        ("__init__.py", "\"\"\"A packaged node.\"\"\"\nfrom .nodes import Scale\n"),
        ("config.py", "FACTOR = 10\n"),
        (
            "nodes.py",
            "from . import config\nfrom .sub.maths import scaled\n\nclass Scale:\n    \"\"\"Scales numbers.\"\"\"\n    def __init__(self, offset=0):\n        self.offset = offset\n    def process(self, x):\n        return scaled(x, config.FACTOR) + self.offset\n",
        ),
        ("sub/__init__.py", ""),
        ("sub/maths.py", "from ..config import FACTOR\n\ndef scaled(x, factor=FACTOR):\n    return x * factor\n"),
        (
            "sub/extra.py",
            "from .maths import scaled\n\nclass Tenfold:\n    def process(self, x):\n        return {'in': x, 'out': scaled(x), 'module': __name__}\n",
        ),
    ];
    let dir = root.join(name);
    for (path, text) in files {
        write_tree(&dir, &[(path, text)]);
    }
    dir
}

/// A package directory is a node: relative imports work, `class` names a
/// class the package exports or `sub.module:Class`, on every runtime.
#[test]
fn a_package_node_with_a_subpackage_runs_on_every_runtime() {
    let scratch = scratch_dir("package");
    let pkg = write_package(scratch.path(), "pkgnode");
    for runtime in PYTHON_RUNTIMES {
        let out = run_path("pkg", &pkg, "", runtime, "[1, 2]").unwrap_or_else(|e| panic!("{runtime}: {e}"));
        assert_eq!(out, jsons("[10, 20]"), "{runtime}");
        let out = run_path("pkg", &pkg, "sub.extra:Tenfold", runtime, "[3]").unwrap_or_else(|e| panic!("{runtime}: {e}"));
        assert_eq!(out, jsons(r#"[{"in": 3, "out": 30, "module": "pkgnode.sub.extra"}]"#), "{runtime}");
        let spec = NodeSpec::python_path("pkg", &pkg, "Scale", runtime)
            .unwrap()
            .with_params(json(r#"{"offset": 1}"#));
        assert_eq!(run_node(&spec, jsons("[4]")).unwrap().outputs(), jsons("[41]"), "{runtime}");
    }
}

/// A project directory (`pyproject.toml`, the package under `src/`) is a
/// node too, and a pipeline manifest names it with `python = "dir/"`.
#[test]
fn a_project_directory_runs_from_a_manifest() {
    let scratch = scratch_dir("project");
    let project = scratch.path().join("proj");
    write_tree(&project, &[("pyproject.toml", "[project]\nname = \"proj-node\"\nversion = \"0.1\"\n")]);
    write_package(&project.join("src"), "proj_node");
    let manifest = scratch.path().join("pipeline.toml");
    std::fs::write(&manifest, "[input]\nvalues = [1, 2]\n\n[[node]]\nid = \"p\"\npython = \"proj/\"\nclass = \"sub.extra:Tenfold\"\n")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&manifest).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8(out.stdout).unwrap().lines().map(json).collect();
    assert_eq!(lines[1], json(r#"{"in": 2, "out": 20, "module": "proj_node.sub.extra"}"#));
}

/// A missing module is named with the import chain that wanted it, and the
/// node's id, on every runtime.
#[test]
fn a_missing_module_names_the_node_and_the_import_chain() {
    let scratch = scratch_dir("missing");
    let root = scratch.path();
    write_tree(
        root,
        &[
            ("chain_node.py", "import chain_pkg.loader\n\nclass Node:\n    def process(self, x):\n        return x\n"),
            ("chain_pkg/__init__.py", ""),
            ("chain_pkg/loader.py", "import no_such_module_anywhere\n"),
        ],
    );
    for runtime in PYTHON_RUNTIMES {
        let text = failure_text("chained", &root.join("chain_node.py"), "", runtime);
        assert!(text.contains("node 'chained'"), "{runtime}: {text}");
        assert!(text.contains("No module named 'no_such_module_anywhere'"), "{runtime}: {text}");
        assert!(text.contains("import chain: chain_node -> chain_pkg.loader"), "{runtime}: {text}");
        assert!(text.contains("neither one of the node's modules"), "{runtime}: {text}");
    }
}

/// A node's bundle is bounded: too many files, too many bytes, packages
/// nested too deep are refused with the limit and where it was passed.
#[test]
fn a_bundle_over_its_limits_is_refused_clearly() {
    let scratch = scratch_dir("limits");
    let root = scratch.path();
    write_tree(root, &[("big_node.py", "class N:\n    def process(self, x):\n        return x\n")]);
    for i in 0..5 {
        write_tree(root, &[(&format!("mod{i}.py"), "X = 1\n")]);
    }
    let node = root.join("big_node.py");
    let few = BundleLimits { max_files: 3, ..BundleLimits::default() };
    let e = load_node_with(&node, &few).unwrap_err();
    assert!(matches!(e, PackageError::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("over the limit of 3 files"), "{e}");
    let small = BundleLimits { max_bytes: 40, ..BundleLimits::default() };
    assert!(load_node_with(&node, &small).unwrap_err().to_string().contains("40 bytes of source"));
    write_tree(root, &[("a/__init__.py", ""), ("a/b/__init__.py", ""), ("a/b/c/__init__.py", "")]);
    let shallow = BundleLimits { max_depth: 1, ..BundleLimits::default() };
    assert!(load_node_with(&node, &shallow).unwrap_err().to_string().contains("1 levels of packages"));
    assert!(load_node(&node).is_ok());
}

/// A directory that is neither a package nor a project is refused, saying
/// what would do.
#[test]
fn a_directory_that_is_no_package_is_refused() {
    let scratch = scratch_dir("nopkg");
    let e = load_node(scratch.path()).unwrap_err();
    assert!(e.to_string().contains("needs an __init__.py"), "{e}");
}

/// The project the dependency tests use: `depnode`, depending on `deps`.
fn write_dep_project(root: &Path, deps: &[&str], body: &str) -> PathBuf {
    let project = root.join("depnode");
    let list: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
    write_tree(
        &project,
        &[
            ("pyproject.toml", &format!("[project]\nname = \"depnode\"\nversion = \"0.1\"\ndependencies = [{}]\n", list.join(", "))),
            ("depnode/__init__.py", body),
        ],
    );
    project
}

fn local_index(wheels: &Path) -> LockOptions {
    LockOptions { find_links: vec![wheels.display().to_string()], no_index: true }
}

/// A pure-Python dependency: declared in pyproject.toml, locked with its
/// SHA-256 (pip from a local wheel directory), bundled from the kept wheel
/// and importable on every runtime; a lock that no longer matches, or a
/// wheel that changed, is refused.
#[test]
fn a_locked_pure_python_dependency_runs_on_every_runtime() {
    let scratch = scratch_dir("deps");
    let wheels = scratch.path().join("wheels");
    write_wheel(
        &wheels,
        "tinydep-1.0-py3-none-any.whl",
        "tinydep",
        &[
            // As many packages do (humanize among them): its version from
            // its own metadata, which the bundle must carry.
            ("tinydep/__init__.py", b"from importlib.metadata import version\n__version__ = version(__name__)\nfrom ._impl import shout\n"),
            ("tinydep/_impl.py", b"def shout(s):\n    return s.upper() + '!'\n"),
        ],
    );
    let body = "import tinydep\n\nclass Shout:\n    def process(self, s):\n        return tinydep.shout(s) + tinydep.__version__\n";
    let project = write_dep_project(scratch.path(), &["tinydep==1.0"], body);

    // Declared but not locked: refused, saying what to run.
    let e = load_node(&project).unwrap_err().to_string();
    assert!(e.contains("not locked") && e.contains("nodehost lock"), "{e}");

    let report = nodehost::tools::lock::lock(&engine(), &project, &local_index(&wheels)).expect("lock");
    assert!(report.refused.is_empty());
    // The node's module and the dependency's, and their size, reported.
    assert!(report.bundle_modules >= 2 && report.bundle_bytes > 100, "{report:?}");
    let lock = LockFile::read(&project).unwrap().expect("nodehost.lock");
    assert_eq!(lock.requirements, ["tinydep==1.0"]);
    let [wheel] = lock.wheels.as_slice() else { panic!("{lock:?}") };
    assert_eq!((wheel.name.as_str(), wheel.version.as_str(), wheel.pure), ("tinydep", "1.0", true));
    let kept = project.join(WHEEL_DIR).join(&wheel.file);
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&kept).unwrap()));
    assert_eq!(wheel.sha256, digest);

    let code = load_node(&project).unwrap();
    assert!(code.bundle.unwrap().modules.contains_key("tinydep._impl"));
    for runtime in PYTHON_RUNTIMES {
        let out = run_path("dep", &project, "", runtime, r#"["hi"]"#).unwrap_or_else(|e| panic!("{runtime}: {e}"));
        assert_eq!(out, jsons(r#"["HI!1.0"]"#), "{runtime}");
    }

    // The wheel changed after locking: refused.
    let mut bytes = std::fs::read(&kept).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&kept, &bytes).unwrap();
    let e = load_node(&project).unwrap_err().to_string();
    assert!(e.contains("SHA-256") && e.contains("tinydep-1.0-py3-none-any.whl"), "{e}");

    // The declared dependencies changed after locking: refused.
    write_dep_project(scratch.path(), &["tinydep==1.0", "otherdep"], body);
    let e = load_node(&project).unwrap_err().to_string();
    assert!(e.contains("no longer matches pyproject.toml"), "{e}");
    assert!(project.join(LOCK_FILE).is_file());
}

/// A native-extension wheel is locked but kept out of the bundle; the lock
/// says which runtime could take it, and importing it in the sandbox says
/// so too.
#[test]
fn a_native_wheel_is_refused_for_the_sandbox_naming_cpython() {
    let scratch = scratch_dir("native");
    let wheels = scratch.path().join("wheels");
    let tag = native_tag();
    write_wheel(
        &wheels,
        &format!("natdep-1.0-{tag}.whl"),
        "natdep",
        &[("natdep/__init__.py", b"from ._core import f\n"), ("natdep/_core.cpython-311-x86_64-linux-gnu.so", b"\x7fELF")],
    );
    let body = "import natdep\n\nclass N:\n    def process(self, x):\n        return x\n";
    let project = write_dep_project(scratch.path(), &["natdep"], body);
    let report = nodehost::tools::lock::lock(&engine(), &project, &local_index(&wheels)).expect("lock");
    let [refused] = report.refused.as_slice() else { panic!("{report:?}") };
    assert!(refused.contains("native-extension wheel") && refused.contains("cpython"), "{refused}");
    assert!(!report.lock.wheels[0].pure);
    let text = failure_text("nat", &project, "", Runtime::Wasm);
    assert!(text.contains("No module named 'natdep'") && text.contains("the trusted cpython runtime can"), "{text}");
    // On cpython itself, the wheel is simply not installed there.
    let text = failure_text("nat", &project, "", Runtime::Cpython);
    assert!(text.contains("No module named 'natdep'") && text.contains("not installed") && text.contains("venv"), "{text}");
    // And it says so as it loads the node, before the import fails.
    let spec = NodeSpec::python_path("nat", &project, "", Runtime::Cpython).expect("the node's files read");
    let engine = engine();
    let (created, logs) = nodehost::on_node_thread(|| capture_logs(|| spec.create(&engine).is_ok()));
    assert!(!created);
    assert!(logs.contains("locked native-extension dependency natdep 1.0 is not installed"), "{logs}");
}

/// The wheel tag pip accepts for this host's CPython.
fn native_tag() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys, sysconfig; v = '%d%d' % sys.version_info[:2]; print('cp%s-cp%s-%s' % (v, v, sysconfig.get_platform().replace('-', '_').replace('.', '_')))"])
        .output()
        .expect("python3");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A dependency that fails to import in the sandbox is reported by
/// `nodehost lock`, with its traceback, not at a pipeline's first item: it
/// is refused for the sandbox, by name, and the lock stands (for a runtime
/// that can load it). The dependencies that import are not named.
#[test]
fn a_dependency_that_fails_to_import_is_reported_at_lock_time() {
    let scratch = scratch_dir("brokendep");
    let wheels = scratch.path().join("wheels");
    write_wheel(&wheels, "brokendep-1.0-py3-none-any.whl", "brokendep", &[("brokendep.py", b"import _no_such_native_part\n")]);
    write_wheel(&wheels, "finedep-1.0-py3-none-any.whl", "finedep", &[("finedep.py", b"X = 1\n")]);
    let project =
        write_dep_project(scratch.path(), &["brokendep", "finedep"], "class N:\n    def process(self, x):\n        return x\n");
    let report = nodehost::tools::lock::lock(&engine(), &project, &local_index(&wheels)).expect("lock");
    let [refused] = report.refused.as_slice() else { panic!("{report:?}") };
    assert!(
        refused.starts_with("brokendep 1.0 does not import in the sandbox")
            && refused.contains("_no_such_native_part")
            && refused.contains("Traceback"),
        "{refused}"
    );
    assert_eq!(report.lock.wheels.len(), 2);
    assert!(project.join(LOCK_FILE).is_file());
}

/// `nodehost types` and `nodehost bake` take a package; the baked component
/// runs the package's nodes (a submodule's class too) with no file access.
#[test]
fn types_and_bake_work_on_a_package() {
    let scratch = scratch_dir("bakepkg");
    let pkg = write_package(scratch.path(), "bakednode");
    let out = Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("types").arg(&pkg).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.starts_with("Scale: Scales numbers.\n    offset = 0"), "{listed}");

    let baked = scratch.path().join("baked.wasm");
    let out = Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("bake").arg(&pkg).arg("-o").arg(&baked).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The sources are gone: the baked component must not need them.
    std::fs::remove_dir_all(&pkg).unwrap();
    let manifest = scratch.path().join("baked.toml");
    std::fs::write(
        &manifest,
        "[input]\nvalues = [1, 2]\n\n[[node]]\nid = \"a\"\ncomponent = \"baked.wasm\"\ntype = \"Scale\"\n\n\
         [[node]]\nid = \"b\"\ncomponent = \"baked.wasm\"\ntype = \"sub.extra:Tenfold\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&manifest).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8(out.stdout).unwrap().lines().map(json).collect();
    assert_eq!(lines, jsons(r#"[{"in": 10, "out": 100, "module": "bakednode.sub.extra"}, {"in": 20, "out": 200, "module": "bakednode.sub.extra"}]"#));
}

/// The check CI may run with network access (`NODEHOST_NETWORK_TESTS=1`):
/// one small, popular pure-Python package resolved from the package index,
/// used by a node on each Python runtime.
#[test]
#[ignore = "needs the package index: NODEHOST_NETWORK_TESTS=1 cargo test -p nodehost --test integration packages:: -- --ignored"]
fn a_package_from_the_index_runs_on_every_python_runtime() {
    if std::env::var_os("NODEHOST_NETWORK_TESTS").is_none() {
        eprintln!("skipped: set NODEHOST_NETWORK_TESTS=1");
        return;
    }
    let scratch = scratch_dir("pypi");
    let body = "import humanize\n\nclass Size:\n    def process(self, n):\n        return humanize.naturalsize(n)\n";
    let project = write_dep_project(scratch.path(), &["humanize==4.9.0"], body);
    nodehost::tools::lock::lock(&engine(), &project, &LockOptions::default()).expect("lock from the index");
    for runtime in PYTHON_RUNTIMES {
        let out = run_path("size", &project, "", runtime, "[3000000]").unwrap_or_else(|e| panic!("{runtime}: {e}"));
        assert_eq!(out, jsons(r#"["3.0 MB"]"#), "{runtime}");
    }
}

/// A locked `tzdata` (python-dateutil and pandas pull it in) does not hide
/// the sandbox's own tz database: a bundle carries modules, not the
/// wheel's data files, so it is left out of the bundle and `zoneinfo`
/// finds its zones.
#[test]
fn a_locked_tzdata_leaves_the_sandboxs_zones_in_place() {
    let scratch = scratch_dir("tzdata");
    let wheels = scratch.path().join("wheels");
    write_wheel(
        &wheels,
        "tzdata-1.0-py3-none-any.whl",
        "tzdata",
        &[("tzdata/__init__.py", b"IANA_VERSION = '2099a'\n"), ("tzdata/zoneinfo/__init__.py", b"")],
    );
    let body = "import zoneinfo\n\nclass N:\n    def process(self, x):\n        return zoneinfo.ZoneInfo(x).key\n";
    let project = write_dep_project(scratch.path(), &["tzdata"], body);
    let report = nodehost::tools::lock::lock(&engine(), &project, &local_index(&wheels)).expect("lock");
    assert!(report.refused.is_empty(), "{report:?}");
    let spec = NodeSpec::python_path("tz", &project, "", Runtime::Wasm).expect("the node's files read");
    let run = run_node(&spec, vec!["Europe/Paris".into()]).unwrap();
    assert_eq!(run.items[0].as_ref().unwrap(), &vec![Value::from("Europe/Paris")]);
}
