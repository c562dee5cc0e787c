//! A node's dependencies, declared and locked: `[project] dependencies` in
//! its `pyproject.toml`, resolved ahead of time by [`lock`] (pip, binary
//! wheels only) into `nodehost.lock` beside it, with each wheel kept in
//! `.nodehost/wheels/` and recorded with its SHA-256. Building a bundle
//! ([`add_dependencies`]) only reads what the lock names: it refuses a lock
//! that no longer matches the declared dependencies, a wheel that is missing
//! or whose hash differs, and never fetches anything.
//!
//! Resolution is pip's (`pip download --only-binary=:all:`), run with the
//! host's CPython, which the `cpython` runtime needs anyway: dependency
//! specifiers, environment markers and the index's metadata are pip's job,
//! and the workspace has no HTTP client or resolver of its own to keep.
//! Pure-Python wheels (`*-none-any.whl` with no native files) go into the
//! bundle; a native-extension wheel is recorded but kept out, and importing
//! it in the sandbox says which runtime could load it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Bundle, BundleLimits, BundledModule, PackageError};

/// The lock file's name, beside `pyproject.toml`.
pub const LOCK_FILE: &str = "nodehost.lock";

/// Where locked wheels are kept, under the node's directory.
pub const WHEEL_DIR: &str = ".nodehost/wheels";

/// The parts of `pyproject.toml` a node uses.
#[derive(Debug, Clone, Default)]
pub struct Pyproject {
    /// `[project] name`.
    pub name: Option<String>,
    /// `[project] dependencies`, as written.
    pub dependencies: Vec<String>,
}

#[derive(Deserialize)]
struct PyprojectFile {
    project: Option<ProjectTable>,
}

#[derive(Deserialize)]
struct ProjectTable {
    name: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl Pyproject {
    /// `root/pyproject.toml`, or an empty project when there is none.
    ///
    /// # Errors
    /// [`PackageError::Pyproject`] when it is there but not valid.
    pub fn read(root: &Path) -> Result<Self, PackageError> {
        let path = root.join("pyproject.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(Pyproject::default());
        };
        let file: PyprojectFile =
            toml::from_str(&text).map_err(|e| PackageError::Pyproject { path: path.clone(), message: e.to_string() })?;
        let project = file.project.unwrap_or(ProjectTable { name: None, dependencies: Vec::new() });
        if let Some(bad) = project.dependencies.iter().find(|d| d.trim().is_empty() || d.trim_start().starts_with('-')) {
            return Err(PackageError::Pyproject {
                path,
                message: format!("[project] dependencies: '{bad}' is not a requirement"),
            });
        }
        Ok(Pyproject { name: project.name, dependencies: project.dependencies })
    }
}

/// `nodehost.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockFile {
    /// The format's version (1).
    pub version: u32,
    /// The dependencies as declared when the lock was made.
    pub requirements: Vec<String>,
    /// Every wheel the resolution chose.
    #[serde(default, rename = "wheel")]
    pub wheels: Vec<LockedWheel>,
}

/// One locked wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedWheel {
    /// The distribution's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The wheel's file name (kept in `.nodehost/wheels/`).
    pub file: String,
    /// The wheel's SHA-256, hex.
    pub sha256: String,
    /// Pure Python: it runs on every Python runtime.
    pub pure: bool,
    /// The top-level modules and packages it provides.
    pub top_level: Vec<String>,
}

impl LockFile {
    /// `root/nodehost.lock`, if there is one.
    ///
    /// # Errors
    /// [`PackageError::Lock`] when it cannot be read.
    pub fn read(root: &Path) -> Result<Option<Self>, PackageError> {
        let path = root.join(LOCK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(PackageError::Read { path, source: e }),
        };
        let lock: LockFile = toml::from_str(&text).map_err(|e| PackageError::Lock {
            path: path.clone(),
            message: format!("not a valid lock file ({e}); run `nodehost lock {}` again", root.display()),
        })?;
        if lock.version != 1 {
            return Err(PackageError::Lock { path, message: format!("lock format version {} is not 1", lock.version) });
        }
        Ok(Some(lock))
    }
}

/// What [`lock`] options pip gets.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    /// Directories or URLs of wheels to look in (`pip --find-links`).
    pub find_links: Vec<String>,
    /// Do not use the package index, only `find_links` (`pip --no-index`).
    pub no_index: bool,
}

/// Resolve the dependencies of the node at `root` (its `pyproject.toml`),
/// download the wheels into `root/.nodehost/wheels/` and write
/// `root/nodehost.lock`. The Python that runs pip is `$NODEHOST_PYTHON`, or
/// `python3`.
///
/// # Errors
/// When `pyproject.toml` is invalid, pip fails (with what it said), or a
/// file cannot be written.
pub fn lock(root: &Path, options: &LockOptions) -> Result<LockFile, PackageError> {
    let project = Pyproject::read(root)?;
    let wheel_dir = root.join(WHEEL_DIR);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| PackageError::Read { path, source }
    };
    std::fs::create_dir_all(&wheel_dir).map_err(io(&wheel_dir))?;
    let mut wheels = Vec::new();
    if !project.dependencies.is_empty() {
        let download = tempfile::tempdir_in(&wheel_dir).map_err(io(&wheel_dir))?;
        let python = std::env::var("NODEHOST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut pip = Command::new(&python);
        pip.args(["-m", "pip", "download", "--disable-pip-version-check", "--no-input", "--only-binary=:all:"])
            .arg("--dest")
            .arg(download.path());
        if options.no_index {
            pip.arg("--no-index");
        }
        for link in &options.find_links {
            pip.arg("--find-links").arg(link);
        }
        pip.args(&project.dependencies);
        let output = pip.output().map_err(|e| PackageError::Pip { message: format!("running {python}: {e}") })?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            let said: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).collect();
            return Err(PackageError::Pip { message: said[said.len().saturating_sub(6)..].join("\n") });
        }
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(download.path()).map_err(io(download.path()))?.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let file = path.file_name().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let contents = read_wheel(&path, &bytes)?;
            let (name, version, tags_pure) = parse_wheel_name(&path)?;
            let target = wheel_dir.join(&file);
            std::fs::rename(&path, &target).map_err(io(&target))?;
            wheels.push(LockedWheel {
                name,
                version,
                sha256: hex::encode(Sha256::digest(&bytes)),
                file,
                pure: tags_pure && !contents.native,
                top_level: contents.top_level,
            });
        }
    }
    let lock = LockFile { version: 1, requirements: project.dependencies, wheels };
    let text = format!(
        "# Written by `nodehost lock` from pyproject.toml's dependencies; the wheels are in {WHEEL_DIR}/.\n{}",
        toml::to_string(&lock).expect("a lock file is plain TOML")
    );
    let path = root.join(LOCK_FILE);
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(lock)
}

/// The one distribution a bundle leaves out though it is locked and pure:
/// the tz database, which every runtime has (the sandbox serves a `tzdata`
/// package from memory; CPython reads the system's), and whose data files a
/// bundle would not carry.
pub const RUNTIME_PROVIDED: &str = "tzdata";

/// What a wheel that cannot run in the sandbox is, and which runtime could
/// load it.
pub fn refusal(wheel: &LockedWheel) -> String {
    format!(
        "{} {} is a native-extension wheel ({}): RustPython (the wasm and native-rustpython runtimes) and CPython in \
         the sandbox (wasm-cpython) cannot load it; the trusted cpython runtime can, with the wheel installed in the \
         virtual environment its manifest names (`venv = ...`)",
        wheel.name, wheel.version, wheel.file
    )
}

/// Add the locked dependencies of the node whose `pyproject.toml` is in
/// `root` to `bundle`: pure-Python wheels unpacked, native ones recorded
/// in [`Bundle::elsewhere`].
///
/// # Errors
/// [`PackageError::Lock`] when dependencies are declared but not locked,
/// the lock no longer matches them, or a wheel is missing or differs from
/// its hash; [`PackageError::Wheel`] when a wheel cannot be read.
pub fn add_dependencies(root: &Path, bundle: &mut Bundle, limits: &BundleLimits) -> Result<(), PackageError> {
    let project = Pyproject::read(root)?;
    let lock_path = root.join(LOCK_FILE);
    let rerun = format!("run `nodehost lock {}`", root.display());
    let Some(lock) = LockFile::read(root)? else {
        if project.dependencies.is_empty() {
            return Ok(());
        }
        return Err(PackageError::Lock {
            path: lock_path,
            message: format!(
                "pyproject.toml declares dependencies ({}) but they are not locked: {rerun} (nothing is fetched while \
                 a pipeline runs)",
                project.dependencies.join(", ")
            ),
        });
    };
    if lock.requirements != project.dependencies {
        return Err(PackageError::Lock {
            path: lock_path,
            message: format!(
                "the lock no longer matches pyproject.toml: locked [{}], declared [{}]; {rerun}",
                lock.requirements.join(", "),
                project.dependencies.join(", ")
            ),
        });
    }
    let mut bytes_total = bundle.source_bytes() as u64;
    let mut files_total = bundle.modules.len() + usize::from(bundle.entry_file.is_some());
    for wheel in &lock.wheels {
        let path = root.join(WHEEL_DIR).join(&wheel.file);
        let bytes = std::fs::read(&path).map_err(|e| PackageError::Lock {
            path: lock_path.clone(),
            message: format!("wheel {} ({}): {e}; {rerun}", wheel.file, path.display()),
        })?;
        let digest = hex::encode(Sha256::digest(&bytes));
        if digest != wheel.sha256 {
            return Err(PackageError::Lock {
                path: lock_path.clone(),
                message: format!(
                    "wheel {} has SHA-256 {digest}, but the lock records {}; {rerun} if the change is meant",
                    wheel.file, wheel.sha256
                ),
            });
        }
        if !wheel.pure {
            for name in &wheel.top_level {
                bundle.elsewhere.insert(name.clone(), refusal(wheel));
            }
            bundle.native.insert(wheel.name.clone(), wheel.version.clone());
            continue;
        }
        if wheel.name.eq_ignore_ascii_case(RUNTIME_PROVIDED) {
            // The runtime's own tz database stays visible: a bundle carries
            // modules, not the wheel's data files, so this one would hide
            // the sandbox's `tzdata` with an empty package.
            continue;
        }
        let contents = read_wheel(&path, &bytes)?;
        for (dir, files) in contents.dists {
            bytes_total += files.values().map(|text| text.len() as u64).sum::<u64>();
            bundle.dists.insert(dir, files);
        }
        for (name, module) in contents.modules {
            files_total += 1;
            bytes_total += module.source.len() as u64;
            if files_total > limits.max_files || bytes_total > limits.max_bytes {
                return Err(PackageError::TooLarge {
                    root: root.to_owned(),
                    limit: format!("{} files or {} bytes of source", limits.max_files, limits.max_bytes),
                    what: format!("{} in {}", module.filename, wheel.file),
                });
            }
            if bundle.modules.contains_key(&name) || bundle.entry == name {
                return Err(PackageError::Wheel {
                    path,
                    message: format!("its module '{name}' has the name of one of the node's own modules"),
                });
            }
            bundle.modules.insert(name, module);
        }
    }
    Ok(())
}

/// A wheel's name, version, and whether its tags say pure Python.
fn parse_wheel_name(path: &Path) -> Result<(String, String, bool), PackageError> {
    let file = path.file_name().and_then(|s| s.to_str()).unwrap_or_default();
    let parts: Vec<&str> = file.strip_suffix(".whl").unwrap_or_default().split('-').collect();
    if parts.len() != 5 && parts.len() != 6 {
        return Err(PackageError::Wheel { path: path.to_owned(), message: "not a wheel file name".into() });
    }
    let (abi, platform) = (parts[parts.len() - 2], parts[parts.len() - 1]);
    Ok((parts[0].to_owned(), parts[1].to_owned(), abi == "none" && platform == "any"))
}

/// What a wheel holds, as far as a bundle goes.
struct WheelContents {
    /// Its Python modules by dotted name.
    modules: BTreeMap<String, BundledModule>,
    /// Its top-level import names.
    top_level: Vec<String>,
    /// It has native code (`.so`, `.pyd`, `.dylib`).
    native: bool,
    /// Its `*.dist-info` text files (not `RECORD`, which lists paths that do
    /// not exist in a bundle), by directory and file name.
    dists: BTreeMap<String, BTreeMap<String, String>>,
}

/// Read the Python modules and the metadata (`*.dist-info/`, for
/// `importlib.metadata`) out of a wheel (a zip archive), leaving out its
/// data (`*.data/`).
fn read_wheel(path: &Path, bytes: &[u8]) -> Result<WheelContents, PackageError> {
    let bad = |message: String| PackageError::Wheel { path: path.to_owned(), message };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let file_name = path.file_name().and_then(|s| s.to_str()).unwrap_or("wheel");
    let mut contents =
        WheelContents { modules: BTreeMap::new(), top_level: Vec::new(), native: false, dists: BTreeMap::new() };
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let Some(inner) = entry.enclosed_name() else {
            return Err(bad(format!("entry {i} ({:?}) escapes the archive", entry.name_raw())));
        };
        let inner = inner.to_string_lossy().replace('\\', "/");
        let parts: Vec<&str> = inner.split('/').collect();
        if parts[0].ends_with(".dist-info") {
            if parts.len() == 2 && parts[1] != "RECORD" && !parts[1].ends_with(".p7s") {
                let mut text = String::new();
                if entry.read_to_string(&mut text).is_ok() {
                    contents.dists.entry(parts[0].to_owned()).or_default().insert(parts[1].to_owned(), text);
                }
            }
            continue;
        }
        if parts[0].ends_with(".data") {
            continue;
        }
        if [".so", ".pyd", ".dylib"].iter().any(|ext| inner.ends_with(ext) || inner.contains(&format!("{ext}."))) {
            contents.native = true;
        }
        let top = parts[0].strip_suffix(".py").unwrap_or(parts[0]);
        if (parts.len() > 1 || inner.ends_with(".py")) && super::is_identifier(top) && !contents.top_level.iter().any(|t| t == top) {
            contents.top_level.push(top.to_owned());
        }
        let Some(stem) = inner.strip_suffix(".py") else { continue };
        let mut names: Vec<&str> = stem.split('/').collect();
        let is_package = names.last() == Some(&"__init__");
        if is_package {
            names.pop();
        }
        if names.is_empty() || !names.iter().all(|n| super::is_identifier(n)) {
            continue;
        }
        let mut source = String::new();
        entry.read_to_string(&mut source).map_err(|e| bad(format!("{inner}: {e}")))?;
        contents.modules.insert(
            names.join("."),
            BundledModule { is_package, filename: format!("{file_name}/{inner}"), source },
        );
    }
    Ok(contents)
}
