//! A node's private `/tmp`: a fresh, empty host directory made for each
//! node instance, preopened read-write at `/tmp`, bounded by the policy's
//! `tmp` and removed with the instance (its store). It is the only thing a
//! default policy grants: it holds nothing of the host's, no other node can
//! see it, and it does not outlive the instance (a restarted node gets a new
//! one).
//!
//! How it is bounded. wasmtime-wasi writes files without counting bytes, so
//! the host shadows every WASI filesystem call that can make the directory
//! take more space (`imports::filesystem`) and [charges](Scratch::charge) it
//! here before the call runs: a write its bytes, a write past the end of a
//! file also the gap, a new stream or write a block of slack (a file's last
//! block), a new file, directory or link a block, a file made longer its
//! growth. Charges add up to an estimate never below what the directory
//! holds. Deleting does not lower the estimate; when a charge would pass the
//! bound, the directory is [measured](measure) instead, and only if what it
//! holds plus the charge passes the bound does the call fail: it traps, and
//! the node fails with [`Limit::Tmp`](crate::error::Limit::Tmp). Checking
//! before each write (rather than measuring after each call) keeps the bound
//! exact whatever a call does: one call cannot write gigabytes before a check
//! comes.
//!
//! What is measured: every file by its length rounded up to a 4 KiB block
//! (at least one block, so empty files count), every directory and symbolic
//! link one block. Lengths, not allocated blocks: a sparse file counts in
//! full.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Where a node sees its scratch directory.
pub(crate) const GUEST_PATH: &str = "/tmp";

/// What one directory entry costs at least, and what files are rounded up
/// to.
pub(crate) const BLOCK: u64 = 4096;

/// A call that would have taken the node's `/tmp` past its bound.
#[derive(Debug, thiserror::Error)]
#[error("the node's /tmp would hold more than its limit of {limit} bytes")]
pub(crate) struct TmpFull {
    /// The policy's `tmp`.
    pub(crate) limit: u64,
}

/// The bound and the running estimate of one scratch directory, shared with
/// the node's file streams.
#[derive(Debug)]
pub(crate) struct Quota {
    root: PathBuf,
    limit: u64,
    /// Never below what the directory holds (see the module docs).
    estimate: Mutex<u64>,
}

impl Quota {
    /// Account for `bytes` more, or fail when the directory would then hold
    /// more than the bound.
    pub(crate) fn charge(&self, bytes: u64) -> Result<(), TmpFull> {
        let mut estimate = self.estimate.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted = estimate.saturating_add(bytes);
        if wanted <= self.limit {
            *estimate = wanted;
            return Ok(());
        }
        // What cannot be measured counts as full: the node made it so.
        let held = measure(&self.root).unwrap_or(u64::MAX);
        let wanted = held.saturating_add(bytes);
        if wanted <= self.limit {
            *estimate = wanted;
            Ok(())
        } else {
            *estimate = held;
            Err(TmpFull { limit: self.limit })
        }
    }
}

/// One node instance's scratch directory; removed when dropped.
#[derive(Debug)]
pub(crate) struct Scratch {
    quota: Arc<Quota>,
    /// The `wasi:filesystem` descriptors (by resource index) that are this
    /// directory or inside it: the preopen, and what was opened from them.
    members: std::collections::HashSet<u32>,
}

impl Scratch {
    /// A fresh, empty, private (mode 0700) directory in the host's
    /// temporary directory, bounded to `limit` bytes.
    pub(crate) fn new(limit: u64) -> std::io::Result<Self> {
        let root = tempfile::Builder::new().prefix("nodehost-tmp-").tempdir()?.keep();
        Ok(Scratch { quota: Arc::new(Quota { root, limit, estimate: Mutex::new(0) }), members: Default::default() })
    }

    /// The directory on the host.
    pub(crate) fn host_path(&self) -> &Path {
        &self.quota.root
    }

    /// The bound and estimate, for the node's file streams.
    pub(crate) fn quota(&self) -> &Arc<Quota> {
        &self.quota
    }

    /// See [`Quota::charge`].
    pub(crate) fn charge(&self, bytes: u64) -> Result<(), TmpFull> {
        self.quota.charge(bytes)
    }

    /// Whether descriptor `rep` is this directory or inside it.
    pub(crate) fn contains(&self, rep: u32) -> bool {
        self.members.contains(&rep)
    }

    /// Record whether the new descriptor `rep` is inside this directory (a
    /// resource index is reused once its descriptor is dropped, so this is
    /// set for every new descriptor).
    pub(crate) fn set_member(&mut self, rep: u32, inside: bool) {
        if inside {
            self.members.insert(rep);
        } else {
            self.members.remove(&rep);
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.quota.root) {
            tracing::warn!("could not remove a node's /tmp ({}): {e}", self.quota.root.display());
        }
    }
}

/// What the directory at `root` holds, as the bound counts it (see the
/// module docs). Walks without recursion and without following links.
pub(crate) fn measure(root: &Path) -> std::io::Result<u64> {
    let mut total = 0u64;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            let cost = if meta.is_file() { meta.len().div_ceil(BLOCK).max(1) * BLOCK } else { BLOCK };
            total = total.saturating_add(cost);
            if meta.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_pass_the_bound_only_when_the_directory_really_would() {
        let scratch = Scratch::new(4 * BLOCK).unwrap();
        let root = scratch.host_path().to_owned();
        scratch.charge(3 * BLOCK).unwrap();
        // The estimate says full; the directory is empty, so it is measured
        // and the charge passes.
        scratch.charge(3 * BLOCK).unwrap();
        std::fs::write(root.join("a"), vec![0u8; 3 * BLOCK as usize + 1]).unwrap();
        assert_eq!(measure(&root).unwrap(), 4 * BLOCK);
        let full = scratch.charge(2 * BLOCK).unwrap_err();
        assert_eq!(full.limit, 4 * BLOCK);
        // Deleting frees the space: the next charge past the estimate
        // measures again.
        std::fs::remove_file(root.join("a")).unwrap();
        scratch.charge(BLOCK).unwrap();
        std::fs::create_dir(root.join("d")).unwrap();
        std::fs::write(root.join("d/empty"), b"").unwrap();
        assert_eq!(measure(&root).unwrap(), 2 * BLOCK);
        drop(scratch);
        assert!(!root.exists(), "the directory outlived its scratch");
    }
}
