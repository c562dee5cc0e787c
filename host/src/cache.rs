//! [`DiskCache`]: the on-disk cache of compiled components and Python
//! snapshots, which loads only entries this host wrote itself.
//!
//! Compiled code is native code: loading a file someone else wrote would
//! run their code. So the cache directory must belong to the current user
//! and be closed to everyone else (it is created with mode 0700), and every
//! entry carries a MAC (HMAC-SHA256 under a random key kept in the directory
//! with mode 0600) over its name and contents, so an entry renamed or copied
//! to another name does not verify either. An entry is used only when it is
//! a regular file of the current user (not a symlink) whose MAC checks out:
//! in full on first sight, and again whenever its size, inode or
//! status-change time (which, unlike the modification time, cannot be set
//! back) differ from what the last check recorded; that record is itself
//! MAC'd, so checking a known entry costs a `stat`, not a hash of tens of
//! megabytes. An entry that fails is deleted and rebuilt, never trusted.
//!
//! What this guards against is a cache written by anything but this host:
//! other users, other tools, corruption, stale or truncated files. A process
//! running as the same user can read the key, so it is trusted, as it could
//! run code as that user anyway.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A verified on-disk cache.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    key: [u8; 32],
}

/// What the sidecar of an entry records.
struct Seal {
    /// MAC of the entry's contents.
    content: [u8; 32],
    /// The file's size, inode and status-change time when last checked...
    stamp: [u64; 3],
    /// ...and the MAC of `content` and `stamp` together.
    stamp_mac: [u8; 32],
}

const SEAL_LEN: usize = 32 + 24 + 32;

impl DiskCache {
    /// Open (creating if needed) the cache in `dir`. Fails when the
    /// directory belongs to another user or others may write to it.
    pub fn open(dir: &Path) -> Result<Self, String> {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let meta = fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(format!("{} belongs to another user", dir.display()));
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("closing {} to other users: {e}", dir.display()))?;
        }
        let key = Self::key(dir)?;
        Ok(DiskCache { dir: dir.to_owned(), key })
    }

    /// The cache's secret key: read, or created at random on first use.
    fn key(dir: &Path) -> Result<[u8; 32], String> {
        // Two tries: the second reads the key another process made first.
        for _ in 0..2 {
            match Self::read_or_create_key(dir)? {
                Some(key) => return Ok(key),
                None => continue,
            }
        }
        Err(format!("could not settle on a cache key in {}", dir.display()))
    }

    /// The key, or `None` when another process created it at the same time.
    fn read_or_create_key(dir: &Path) -> Result<Option<[u8; 32]>, String> {
        let path = dir.join("key");
        if let Ok(bytes) = fs::read(&path) {
            let meta = fs::metadata(&path).map_err(|e| e.to_string())?;
            // SAFETY: geteuid has no preconditions.
            if meta.uid() == unsafe { libc::geteuid() } && meta.mode() & 0o077 == 0 {
                if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                    return Ok(Some(key));
                }
            }
            // A key we cannot trust: start afresh (every entry fails to
            // verify and is rebuilt).
            let _ = fs::remove_file(&path);
        }
        let mut key = [0u8; 32];
        fs::File::open("/dev/urandom")
            .and_then(|mut f| io::Read::read_exact(&mut f, &mut key))
            .map_err(|e| format!("reading /dev/urandom: {e}"))?;
        let (tmp, mut f) = unique_temp(dir, "key").map_err(|e| format!("writing the cache key: {e}"))?;
        f.write_all(&key).map_err(|e| format!("writing the cache key: {e}"))?;
        drop(f);
        // Another process may have won the race: then use the key that landed.
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(Some(key)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(format!("writing the cache key: {e}")),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where entry `name` lives (whether or not it exists).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn seal_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.seal"))
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.key);
        let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
        let mut inner = Sha256::new();
        inner.update(&ipad);
        for p in parts {
            inner.update(p);
        }
        let mut outer = Sha256::new();
        outer.update(&opad);
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    fn stamp_of(meta: &fs::Metadata) -> [u64; 3] {
        let ctime = (meta.ctime() as u64).wrapping_mul(1_000_000_000).wrapping_add(meta.ctime_nsec() as u64);
        [meta.len(), meta.ino(), ctime]
    }

    /// The MAC of entry `name` with `contents`.
    fn content_mac(&self, name: &str, contents: &[u8]) -> [u8; 32] {
        self.mac(&[name.as_bytes(), &[0], contents])
    }

    /// The MAC of entry `name`'s seal record.
    fn stamp_mac(&self, name: &str, content: &[u8; 32], stamp: &[u64; 3]) -> [u8; 32] {
        self.mac(&[name.as_bytes(), &[0], content, &Self::stamp_bytes(stamp)])
    }

    fn stamp_bytes(stamp: &[u64; 3]) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (i, v) in stamp.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    fn write_seal(&self, name: &str, content: [u8; 32]) -> io::Result<()> {
        let meta = fs::symlink_metadata(self.path(name))?;
        let stamp = Self::stamp_of(&meta);
        let stamp_mac = self.stamp_mac(name, &content, &stamp);
        let mut bytes = Vec::with_capacity(SEAL_LEN);
        bytes.extend_from_slice(&content);
        bytes.extend_from_slice(&Self::stamp_bytes(&stamp));
        bytes.extend_from_slice(&stamp_mac);
        write_atomically(&self.seal_path(name), &bytes)
    }

    fn read_seal(&self, name: &str) -> Option<Seal> {
        let bytes = fs::read(self.seal_path(name)).ok()?;
        if bytes.len() != SEAL_LEN {
            return None;
        }
        let word = |i: usize| u64::from_le_bytes(bytes[32 + i * 8..40 + i * 8].try_into().expect("8 bytes"));
        Some(Seal {
            content: bytes[..32].try_into().expect("32 bytes"),
            stamp: [word(0), word(1), word(2)],
            stamp_mac: bytes[56..].try_into().expect("32 bytes"),
        })
    }

    /// Store `bytes` as entry `name`, atomically, with its seal; then, if
    /// the cache holds more than [`max_bytes`] in all, delete the entries
    /// written longest ago (never `name`).
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(name);
        write_atomically(&path, bytes)?;
        self.write_seal(name, self.content_mac(name, bytes))?;
        self.prune(max_bytes(), name);
        Ok(())
    }

    /// Delete the oldest entries (by the time they were written) until the
    /// cache holds at most `cap` bytes, keeping `keep`. A process that has
    /// an entry mapped keeps its mapping.
    pub fn prune(&self, cap: u64, keep: &str) {
        let Ok(dir) = fs::read_dir(&self.dir) else { return };
        let mut entries: Vec<(std::time::SystemTime, u64, String)> = dir
            .filter_map(|e| {
                let e = e.ok()?;
                let name = e.file_name().into_string().ok()?;
                if name == "key" || name.starts_with('.') || name.ends_with(".seal") {
                    return None;
                }
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), name))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        for (_, len, name) in entries {
            if total <= cap {
                break;
            }
            if name == keep {
                continue;
            }
            tracing::info!(entry = %name, "removing an old cache entry (the cache is over {} MB)", cap >> 20);
            let _ = fs::remove_file(self.path(&name));
            let _ = fs::remove_file(self.seal_path(&name));
            total -= len;
        }
    }

    /// The path of entry `name` if it exists and verifies; an entry that does
    /// not verify is deleted.
    pub fn verified(&self, name: &str) -> Option<PathBuf> {
        let path = self.path(name);
        let meta = fs::symlink_metadata(&path).ok()?;
        // SAFETY: geteuid has no preconditions.
        if !meta.file_type().is_file() || meta.uid() != unsafe { libc::geteuid() } {
            self.discard(name, "it is not a regular file of this user");
            return None;
        }
        let fresh = |seal: &Seal| {
            seal.stamp == Self::stamp_of(&meta)
                && constant_time_eq(&seal.stamp_mac, &self.stamp_mac(name, &seal.content, &seal.stamp))
        };
        match self.read_seal(name) {
            Some(seal) if fresh(&seal) => Some(path),
            Some(seal) => {
                // The file changed since it was last checked: check it all.
                let ok = fs::read(&path).is_ok_and(|bytes| constant_time_eq(&seal.content, &self.content_mac(name, &bytes)));
                if ok && self.write_seal(name, seal.content).is_ok() {
                    Some(path)
                } else {
                    self.discard(name, "its contents do not match their seal");
                    None
                }
            }
            None => {
                self.discard(name, "it has no valid seal");
                None
            }
        }
    }

    /// The contents of entry `name` if it exists and verifies.
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        let path = self.verified(name)?;
        let bytes = fs::read(&path).ok()?;
        // Check what was read, not just what was stat'ed.
        let seal = self.read_seal(name)?;
        if constant_time_eq(&seal.content, &self.content_mac(name, &bytes)) {
            Some(bytes)
        } else {
            self.discard(name, "its contents do not match their seal");
            None
        }
    }

    /// Delete entry `name` (it could not be trusted).
    pub fn discard(&self, name: &str, why: &str) {
        tracing::warn!(entry = %self.path(name).display(), "discarding a cache entry: {why}");
        let _ = fs::remove_file(self.path(name));
        let _ = fs::remove_file(self.seal_path(name));
    }
}

/// Most bytes the cache keeps: `$NODEHOST_CACHE_MAX_MB` megabytes, else
/// 2 GiB (a release of nodehost needs about 150 MB).
pub fn max_bytes() -> u64 {
    std::env::var("NODEHOST_CACHE_MAX_MB").ok().and_then(|v| v.parse::<u64>().ok()).map_or(2 << 30, |mb| mb << 20)
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new temporary file in `dir` (mode 0600) whose name no other writer,
/// in this process or another, is using.
fn unique_temp(dir: &Path, stem: &str) -> io::Result<(PathBuf, fs::File)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{stem}.{}.{n}.tmp", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            // Left by a crashed process that had the same pid: skip it.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Write `bytes` to `path` through a temporary file and a rename, so
/// readers see the old file or the whole new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("cache file has a directory");
    let stem = path.file_name().expect("a file name").to_string_lossy().into_owned();
    let (tmp, mut f) = unique_temp(dir, &stem)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    match written.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A file's stamp: its size, inode and status-change time, as bytes. A file
/// rewritten in place gets a new stamp.
pub fn file_stamp(meta: &fs::Metadata) -> [u8; 24] {
    DiskCache::stamp_bytes(&DiskCache::stamp_of(meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nodehost-cache-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn entries_verify_and_tampered_ones_are_discarded() {
        let dir = scratch("tamper");
        let cache = DiskCache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(dir.join("key")).unwrap().mode() & 0o777, 0o600);
        cache.write("a.bin", b"compiled code").unwrap();
        assert!(cache.verified("a.bin").is_some());
        assert_eq!(cache.read("a.bin").unwrap(), b"compiled code");

        // Changed contents (and so size and mtime): found out and removed.
        fs::write(cache.path("a.bin"), b"evil code!!!!").unwrap();
        assert!(cache.verified("a.bin").is_none());
        assert!(!cache.path("a.bin").exists());

        // A file nobody sealed is not trusted.
        fs::write(cache.path("b.bin"), b"dropped in").unwrap();
        assert!(cache.verified("b.bin").is_none());

        // A seal made with another key does not verify.
        cache.write("c.bin", b"code").unwrap();
        let other = DiskCache { dir: dir.clone(), key: [7; 32] };
        assert!(other.verified("c.bin").is_none());
    }

    #[test]
    fn entries_moved_to_another_name_or_linked_do_not_verify() {
        let dir = scratch("swap");
        let cache = DiskCache::open(&dir).unwrap();
        cache.write("good", b"code for good").unwrap();
        cache.write("other", b"code for other").unwrap();
        // Swap: "other"'s file and seal renamed over "good".
        fs::rename(cache.path("other"), cache.path("good")).unwrap();
        fs::rename(cache.seal_path("other"), cache.seal_path("good")).unwrap();
        assert!(cache.verified("good").is_none());
        assert!(!cache.path("good").exists());

        // A symlink to a sealed entry, with a copy of its seal.
        cache.write("real", b"real code").unwrap();
        std::os::unix::fs::symlink(cache.path("real"), cache.path("link")).unwrap();
        fs::copy(cache.seal_path("real"), cache.seal_path("link")).unwrap();
        assert!(cache.verified("link").is_none());
        assert_eq!(cache.read("real").unwrap(), b"real code");
    }

    #[test]
    fn an_oversized_cache_drops_its_oldest_entries() {
        let dir = scratch("prune");
        let cache = DiskCache::open(&dir).unwrap();
        for (i, name) in ["old", "middle", "new"].iter().enumerate() {
            cache.write(name, &[i as u8; 1000]).unwrap();
            // Distinct write times, oldest first.
            let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + i as u64);
            fs::File::options().write(true).open(cache.path(name)).unwrap().set_modified(t).unwrap();
        }
        cache.prune(2000, "new");
        assert!(!cache.path("old").exists() && !cache.seal_path("old").exists());
        assert!(cache.read("middle").is_some() && cache.read("new").is_some());
        // The entry just written stays even when it alone is over the cap.
        cache.prune(10, "new");
        assert!(cache.read("new").is_some() && !cache.path("middle").exists());
    }

    #[test]
    fn the_same_key_is_used_across_opens() {
        let dir = scratch("reopen");
        DiskCache::open(&dir).unwrap().write("x", b"123").unwrap();
        assert_eq!(DiskCache::open(&dir).unwrap().read("x").unwrap(), b"123");
    }

    #[test]
    fn a_directory_open_to_others_is_closed() {
        let dir = scratch("open");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        DiskCache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }
}
