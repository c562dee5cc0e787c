//! Python nodes made of more than one file: a node file with the modules and
//! packages beside it, or a package directory (with `__init__.py`, or a
//! project with `pyproject.toml`), plus the pure-Python dependencies its
//! lock file names.
//!
//! The host reads all of it ahead of time into a [`Bundle`]: module name to
//! (is it a package, file name, source), bounded by [`BundleLimits`]. The
//! bundle reaches every Python runtime the same way, as the `source` of the
//! node's module in its [`encoded`](Bundle::encode) form (a header line and
//! JSON): the helper module every runtime loads (`nodehost.py`, `_load`)
//! sees the header, installs a meta-path finder over the bundle and imports
//! the node from it. So a packaged node needs no file access in the sandbox,
//! goes through the existing `load-module` call (no change to the node
//! interface), and a baked component holds the bundle with its modules
//! already imported.
//!
//! Dependencies: [`lock`] resolves the `[project] dependencies` of a
//! node's `pyproject.toml` with pip ahead of time, keeps the wheels in
//! `.nodehost/wheels/` and records them with their SHA-256 in `nodehost.lock`
//! beside the `pyproject.toml`; building a bundle checks the lock against the
//! declared dependencies and each wheel against its hash, and unpacks the
//! pure-Python ones. Nothing is fetched while a pipeline runs.

pub mod lock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The first line of an encoded bundle; `nodehost.py` looks for it.
pub const BUNDLE_HEADER: &str = "# nodehost-bundle 1\n";

/// Directories never read into a bundle: tests, environments, build output,
/// caches.
const SKIPPED_DIRS: &[&str] =
    &["__pycache__", "test", "tests", "venv", "env", "site-packages", "node_modules", "build", "dist"];

/// How much a bundle may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Most modules (files).
    pub max_files: usize,
    /// Most bytes of source in all.
    pub max_bytes: u64,
    /// Deepest package nesting.
    pub max_depth: usize,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits { max_files: 2000, max_bytes: 16 << 20, max_depth: 16 }
    }
}

/// Why a node's bundle could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A file or directory could not be read.
    #[error("reading {}", path.display())]
    Read {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The path is neither a `.py` file nor a package or project directory.
    #[error("{}: {reason}", path.display())]
    NotANode {
        /// The path.
        path: PathBuf,
        /// What it is instead, and what would do.
        reason: String,
    },
    /// The bundle would go past one of its limits.
    #[error(
        "{}: the node's modules are over the limit of {limit} (at {what}); move the node into a directory of its own, \
         or leave large files out of it",
        root.display()
    )]
    TooLarge {
        /// The directory being read.
        root: PathBuf,
        /// Which limit, e.g. `2000 files`.
        limit: String,
        /// Where it went over.
        what: String,
    },
    /// `pyproject.toml` could not be read as a project.
    #[error("{}: {message}", path.display())]
    Pyproject {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The lock file is missing, stale, or does not match the wheels.
    #[error("{}: {message}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What is wrong, and what to run.
        message: String,
    },
    /// A wheel could not be read or unpacked.
    #[error("wheel {}: {message}", path.display())]
    Wheel {
        /// The wheel file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Resolving or downloading with pip failed.
    #[error("resolving dependencies with pip: {message}")]
    Pip {
        /// What pip said.
        message: String,
    },
}

/// One module of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundledModule {
    /// True for a package (`__init__.py`).
    pub is_package: bool,
    /// The file it came from, as tracebacks show it.
    pub filename: String,
    /// Its source.
    pub source: String,
}

/// A node's modules and dependencies, read ahead of time.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The node's module: a file's stem, or a package's name.
    pub entry: String,
    /// For a node file: its file name and source (run as module `entry`).
    pub entry_file: Option<(String, String)>,
    /// Every other importable module, by dotted name.
    pub modules: BTreeMap<String, BundledModule>,
    /// Top-level names that exist for another runtime but not in this
    /// bundle (a native-extension wheel), with what to say about them.
    pub elsewhere: BTreeMap<String, String>,
    /// The locked dependencies' metadata, for `importlib.metadata`: each
    /// wheel's `*.dist-info` directory name, with its text files
    /// (`METADATA`, `entry_points.txt`, ...) by name.
    pub dists: BTreeMap<String, BTreeMap<String, String>>,
    /// The locked native-extension dependencies, name and version: the
    /// trusted `cpython` runtime imports them from its environment and
    /// warns when the version there is another.
    pub native: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Encoded<'a> {
    entry: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    modules: BTreeMap<&'a str, (bool, &'a str, &'a str)>,
    elsewhere: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    dists: &'a BTreeMap<String, BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    native: &'a BTreeMap<String, String>,
}

impl Bundle {
    /// The text `nodehost.py`'s `_load` takes in place of a module's source:
    /// [`BUNDLE_HEADER`] then the bundle as JSON.
    pub fn encode(&self) -> String {
        let encoded = Encoded {
            entry: &self.entry,
            file: self.entry_file.as_ref().map(|(f, _)| f.as_str()),
            source: self.entry_file.as_ref().map(|(_, s)| s.as_str()),
            modules: self
                .modules
                .iter()
                .map(|(name, m)| (name.as_str(), (m.is_package, m.filename.as_str(), m.source.as_str())))
                .collect(),
            elsewhere: &self.elsewhere,
            dists: &self.dists,
            native: &self.native,
        };
        let mut text = String::from(BUNDLE_HEADER);
        text.push_str(&serde_json::to_string(&encoded).expect("a bundle is plain JSON"));
        text
    }

    /// Bytes of source it holds.
    pub fn source_bytes(&self) -> usize {
        self.entry_file.as_ref().map_or(0, |(_, s)| s.len()) + self.modules.values().map(|m| m.source.len()).sum::<usize>()
    }
}

/// What a Python node path loads as: the file name the runtimes name it by,
/// and the text to load (the file's own source when it has nothing beside
/// it to import, else an encoded [`Bundle`]).
#[derive(Debug, Clone)]
pub struct NodeCode {
    /// The node's file or package directory, as given.
    pub file: PathBuf,
    /// Source or encoded bundle.
    pub text: String,
    /// The bundle, when there is one.
    pub bundle: Option<Bundle>,
}

/// Read the Python node at `path` (a `.py` file, a package directory, or a
/// project directory with `pyproject.toml`) with the default limits.
///
/// # Errors
/// See [`PackageError`].
pub fn load_node(path: &Path) -> Result<NodeCode, PackageError> {
    load_node_with(path, &BundleLimits::default())
}

/// [`load_node`] with `limits`.
///
/// # Errors
/// See [`PackageError`].
pub fn load_node_with(path: &Path, limits: &BundleLimits) -> Result<NodeCode, PackageError> {
    let bundle = bundle_with(path, limits)?;
    let plain = bundle.modules.is_empty() && bundle.elsewhere.is_empty();
    let text = match (&bundle.entry_file, plain) {
        (Some((_, source)), true) => source.clone(),
        _ => bundle.encode(),
    };
    Ok(NodeCode { file: path.to_owned(), text, bundle: (!plain).then_some(bundle) })
}

/// The bundle of the node at `path` (see [`load_node`]).
///
/// # Errors
/// See [`PackageError`].
pub fn bundle_with(path: &Path, limits: &BundleLimits) -> Result<Bundle, PackageError> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|source| PackageError::Read { path: p.to_owned(), source });
    let mut reader = Reader { limits, files: 0, bytes: 0, root: path.to_owned(), modules: BTreeMap::new() };
    let (entry, entry_file, project_root) = if path.is_file() {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if path.extension().is_none_or(|e| e != "py") || !is_identifier(stem) {
            return Err(PackageError::NotANode {
                path: path.to_owned(),
                reason: "a Python node is a .py file named as a module (letters, digits, '_'), or a package directory"
                    .into(),
            });
        }
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        reader.root = dir.to_owned();
        let source = read(path)?;
        reader.count(path, source.len())?;
        reader.read_dir(dir, &[], 0, Some(path))?;
        (stem.to_owned(), Some((path.display().to_string(), source)), dir.to_owned())
    } else if path.is_dir() {
        let package_dir = if path.join("__init__.py").is_file() {
            path.to_owned()
        } else if path.join("pyproject.toml").is_file() {
            project_package(path)?
        } else {
            return Err(PackageError::NotANode {
                path: path.to_owned(),
                reason: "a directory node needs an __init__.py (a package) or a pyproject.toml (a project)".into(),
            });
        };
        let name = package_dir.file_name().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if !is_identifier(&name) {
            return Err(PackageError::NotANode {
                path: package_dir,
                reason: format!("'{name}' is not a valid Python package name"),
            });
        }
        reader.root = package_dir.clone();
        reader.read_package(&package_dir, &[name.as_str()], 0)?;
        (name, None, path.to_owned())
    } else {
        return Err(PackageError::Read {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        });
    };
    let mut bundle = Bundle { entry, entry_file, modules: reader.modules, elsewhere: BTreeMap::new(), dists: BTreeMap::new(), native: BTreeMap::new() };
    lock::add_dependencies(&project_root, &mut bundle, limits)?;
    Ok(bundle)
}

/// The package directory of a project: `[project] name` (normalized) under
/// `src/` or beside `pyproject.toml`, else the only package there.
fn project_package(root: &Path) -> Result<PathBuf, PackageError> {
    let project = lock::Pyproject::read(root)?;
    let mut candidates = Vec::new();
    for base in [root.join("src"), root.to_owned()] {
        if let Some(name) = &project.name {
            let dir = base.join(name.replace(['-', '.'], "_").to_lowercase());
            if dir.join("__init__.py").is_file() {
                return Ok(dir);
            }
        }
        if let Ok(entries) = std::fs::read_dir(&base) {
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("__init__.py").is_file() && !skipped(p))
                .collect();
            found.sort();
            candidates.extend(found);
        }
    }
    match candidates.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(PackageError::NotANode {
            path: root.to_owned(),
            reason: format!(
                "cannot tell which package is the node's: [project] name {} and {} package directories under src/ or \
                 beside pyproject.toml",
                project.name.as_deref().map_or("is missing".into(), |n| format!("is '{n}'")),
                candidates.len()
            ),
        }),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn skipped(dir: &Path) -> bool {
    let name = dir.file_name().and_then(|s| s.to_str()).unwrap_or_default();
    name.starts_with('.') || SKIPPED_DIRS.contains(&name) || name.ends_with(".egg-info") || name.ends_with(".dist-info")
}

/// Reads modules from directories, within limits.
struct Reader<'a> {
    limits: &'a BundleLimits,
    files: usize,
    bytes: u64,
    root: PathBuf,
    modules: BTreeMap<String, BundledModule>,
}

impl Reader<'_> {
    fn count(&mut self, path: &Path, len: usize) -> Result<(), PackageError> {
        self.files += 1;
        self.bytes += len as u64;
        let over = |limit: String| PackageError::TooLarge {
            root: self.root.clone(),
            limit,
            what: path.display().to_string(),
        };
        if self.files > self.limits.max_files {
            return Err(over(format!("{} files", self.limits.max_files)));
        }
        if self.bytes > self.limits.max_bytes {
            return Err(over(format!("{} bytes of source", self.limits.max_bytes)));
        }
        Ok(())
    }

    fn add(&mut self, path: &Path, name: String, is_package: bool) -> Result<(), PackageError> {
        let source =
            std::fs::read_to_string(path).map_err(|source| PackageError::Read { path: path.to_owned(), source })?;
        self.count(path, source.len())?;
        self.modules.insert(name, BundledModule { is_package, filename: path.display().to_string(), source });
        Ok(())
    }

    /// The modules and packages in `dir`, as submodules of `prefix`
    /// (empty: top level), leaving out `except` (the node file itself).
    fn read_dir(&mut self, dir: &Path, prefix: &[&str], depth: usize, except: Option<&Path>) -> Result<(), PackageError> {
        if depth > self.limits.max_depth {
            return Err(PackageError::TooLarge {
                root: self.root.clone(),
                limit: format!("{} levels of packages", self.limits.max_depth),
                what: dir.display().to_string(),
            });
        }
        let entries = std::fs::read_dir(dir).map_err(|source| PackageError::Read { path: dir.to_owned(), source })?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().and_then(|s| s.to_str()).unwrap_or_default();
            if path.is_dir() {
                if !skipped(&path) && is_identifier(name) && path.join("__init__.py").is_file() {
                    let mut parts = prefix.to_vec();
                    parts.push(name);
                    self.read_package(&path, &parts, depth + 1)?;
                }
            } else if let Some(stem) = name.strip_suffix(".py")
                && stem != "__init__"
                && is_identifier(stem)
                && except.is_none_or(|e| e.file_name() != path.file_name())
            {
                let mut parts = prefix.to_vec();
                parts.push(stem);
                self.add(&path, parts.join("."), false)?;
            }
        }
        Ok(())
    }

    fn read_package(&mut self, dir: &Path, parts: &[&str], depth: usize) -> Result<(), PackageError> {
        self.add(&dir.join("__init__.py"), parts.join("."), true)?;
        self.read_dir(dir, parts, depth, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("node_1"));
        assert!(!is_identifier("1node"));
        assert!(!is_identifier("my-node"));
        assert!(!is_identifier(""));
    }
}
