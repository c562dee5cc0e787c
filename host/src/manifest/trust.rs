//! What a manifest may ask for on its own, and what needs the host
//! operator's say-so ([`HostPermissions`]).
//!
//! A manifest may wire up nodes, give them parameters and limits, and grant
//! them directories under its own directory and environment variables it
//! names. Two things need the person running the host to agree, because a
//! manifest's author should not be able to decide them alone:
//!
//! - a node on an un-sandboxed runtime (`cpython`, `native-rustpython`,
//!   `native`) runs with the user's full rights: it needs
//!   [`HostPermissions::allow_unsandboxed`] *and* `trusted = true` on the
//!   node in the manifest;
//! - a directory grant or an output file outside the manifest's directory
//!   (an absolute path elsewhere, a `..` escape, a symlink out) needs that
//!   directory, or one above it, in [`HostPermissions::allowed_dirs`].

use std::path::{Path, PathBuf};

use crate::factory::Runtime;

/// What the person running the host allows beyond what a manifest may ask
/// for on its own. The default allows nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPermissions {
    /// Nodes marked `trusted = true` may run on un-sandboxed runtimes.
    pub allow_unsandboxed: bool,
    /// Directories outside the manifest's own that grants and the output
    /// file may name (with everything under them).
    pub allowed_dirs: Vec<PathBuf>,
}

impl HostPermissions {
    /// Why node `id` may not run on `runtime` (marked `trusted` or not), if
    /// it may not.
    pub(crate) fn refuse_runtime(&self, id: &str, runtime: Runtime, trusted: bool) -> Option<String> {
        if runtime.is_sandboxed() {
            return None;
        }
        match (self.allow_unsandboxed, trusted) {
            (true, true) => None,
            (false, _) => Some(format!(
                "node '{id}' asks for the un-sandboxed '{runtime}' runtime, where its code runs with your full \
                 rights; the host must allow that (nodehost run --allow-unsandboxed) and the node must say \
                 trusted = true"
            )),
            (true, false) => Some(format!(
                "node '{id}' asks for the un-sandboxed '{runtime}' runtime but is not marked trusted = true"
            )),
        }
    }

    /// Why `path` (already resolved, for the `what` of node or output) may
    /// not be used by a manifest in `base` (resolved), if it may not.
    pub(crate) fn refuse_path(&self, path: &Path, base: &Path, what: &str) -> Option<String> {
        if path.starts_with(base) || self.allowed_dirs.iter().any(|d| resolve(d).is_some_and(|d| path.starts_with(d))) {
            return None;
        }
        Some(format!(
            "{what} {} is outside the manifest's directory {}; the host must allow it \
             (nodehost run --allow-dir {})",
            path.display(),
            base.display(),
            path.display()
        ))
    }
}

/// `path` with symlinks and `..` resolved, if it exists.
pub(crate) fn resolve(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_manifest_need_the_host() {
        let base = std::env::temp_dir().canonicalize().unwrap();
        let inside = base.join("x");
        let perms = HostPermissions::default();
        assert!(perms.refuse_path(&inside, &base, "grant").is_none());
        assert!(perms.refuse_path(Path::new("/"), &base, "grant").is_some());
        let allowed = HostPermissions { allowed_dirs: vec!["/".into()], ..Default::default() };
        assert!(allowed.refuse_path(Path::new("/etc"), &base, "grant").is_none());
    }

    #[test]
    fn unsandboxed_runtimes_need_both_the_host_and_the_node() {
        let open = HostPermissions { allow_unsandboxed: true, ..Default::default() };
        let closed = HostPermissions::default();
        assert!(closed.refuse_runtime("n", Runtime::Wasm, false).is_none());
        assert!(closed.refuse_runtime("n", Runtime::Cpython, true).unwrap().contains("--allow-unsandboxed"));
        assert!(open.refuse_runtime("n", Runtime::Cpython, false).unwrap().contains("trusted = true"));
        assert!(open.refuse_runtime("n", Runtime::NativeRustpython, true).is_none());
    }
}
