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
//!
//! The primitives are crates: `hmac` and `sha2` for the MAC, `subtle` to
//! compare MACs in constant time, `getrandom` for the key and `tempfile`
//! for the temporary files behind every atomic write (a rename over the
//! entry, or for the key a link that fails if another process made one
//! first). What stays here is the policy: what is sealed, when a seal is
//! rechecked, what is refused.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why the cache could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The directory could not be created or looked at.
    #[error("opening the cache directory {}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The directory belongs to another user, whose code it could hold.
    #[error("the cache directory {} belongs to another user (uid {owner}, not {me})", path.display())]
    ForeignOwner {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective user.
        me: u32,
    },
    /// The directory is open to other users and could not be closed.
    #[error("closing the cache directory {} to other users", path.display())]
    Close {
        /// The directory.
        path: PathBuf,
        /// Why it could not be closed.
        #[source]
        source: io::Error,
    },
    /// The key could not be made: no random bytes.
    #[error("getting random bytes for the cache key")]
    Random(#[source] getrandom::Error),
    /// The key file could not be read or written.
    #[error("the cache key {}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Another process kept replacing the key while this one made its own.
    #[error("could not settle on a cache key in {}", dir.display())]
    KeyRace {
        /// The cache directory.
        dir: PathBuf,
    },
}

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
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        let dir_error = |source| CacheError::Dir { path: dir.to_owned(), source };
        fs::create_dir_all(dir).map_err(dir_error)?;
        let meta = fs::metadata(dir).map_err(dir_error)?;
        let me = euid();
        if meta.uid() != me {
            return Err(CacheError::ForeignOwner { path: dir.to_owned(), owner: meta.uid(), me });
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|source| CacheError::Close { path: dir.to_owned(), source })?;
        }
        let key = Self::key(dir)?;
        Ok(DiskCache { dir: dir.to_owned(), key })
    }

    /// The cache's secret key: read, or created at random on first use.
    fn key(dir: &Path) -> Result<[u8; 32], CacheError> {
        // Two tries: the second reads the key another process made first.
        for _ in 0..2 {
            if let Some(key) = Self::read_or_create_key(dir)? {
                return Ok(key);
            }
        }
        Err(CacheError::KeyRace { dir: dir.to_owned() })
    }

    /// The key, or `None` when another process created it at the same time.
    fn read_or_create_key(dir: &Path) -> Result<Option<[u8; 32]>, CacheError> {
        let path = dir.join("key");
        let key_error = |source| CacheError::Key { path: path.clone(), source };
        if let Ok(bytes) = fs::read(&path) {
            let meta = fs::symlink_metadata(&path).map_err(key_error)?;
            if meta.file_type().is_file()
                && meta.uid() == euid()
                && meta.mode() & 0o077 == 0
                && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
            {
                return Ok(Some(key));
            }
            // A key we cannot trust: start afresh (every entry fails to
            // verify and is rebuilt).
            let _ = fs::remove_file(&path);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(CacheError::Random)?;
        // tempfile makes the file with mode 0600 under a name no other
        // writer uses, and deletes it if anything below fails.
        let mut tmp = temp_file(dir, "key").map_err(key_error)?;
        tmp.write_all(&key).and_then(|()| tmp.as_file().sync_all()).map_err(key_error)?;
        // Another process may have won the race: then use the key that landed.
        match tmp.persist_noclobber(&path) {
            Ok(_) => Ok(Some(key)),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(key_error(e.error)),
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

    /// HMAC-SHA256 under the cache key of `parts`, one after the other.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
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
        if !meta.file_type().is_file() || meta.uid() != euid() {
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
    a.ct_eq(b).into()
}

/// This process's effective user id.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// A new temporary file in `dir`, mode 0600, named `.{stem}.XXXXXX.tmp`
/// (the leading dot keeps it out of [`DiskCache::prune`]); it is deleted
/// when dropped unless persisted.
fn temp_file(dir: &Path, stem: &str) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(&format!(".{stem}.")).suffix(".tmp").tempfile_in(dir)
}

/// Write `bytes` to `path` through a temporary file and a rename, so
/// readers see the old file or the whole new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("cache file has a directory");
    let stem = path.file_name().expect("a file name").to_string_lossy().into_owned();
    let mut tmp = temp_file(dir, &stem)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
    fn processes_opening_a_new_cache_at_once_settle_on_one_key() {
        let dir = scratch("race");
        let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
            let opens: Vec<_> = (0..8).map(|_| s.spawn(|| DiskCache::open(&dir).unwrap().key)).collect();
            opens.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(fs::read(dir.join("key")).unwrap(), keys[0]);
        // No temporary file is left behind, by the key or by a write.
        DiskCache::open(&dir).unwrap().write("x", b"123").unwrap();
        let mut names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["key", "x", "x.seal"]);
    }

    #[test]
    fn a_key_that_is_not_a_private_file_of_this_user_is_replaced() {
        let dir = scratch("badkey");
        let first = DiskCache::open(&dir).unwrap().key;
        fs::set_permissions(dir.join("key"), fs::Permissions::from_mode(0o644)).unwrap();
        let second = DiskCache::open(&dir).unwrap().key;
        assert_ne!(first, second);
        assert_eq!(fs::metadata(dir.join("key")).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn the_mac_is_hmac_sha256() {
        // RFC 4231, test case 2 (key "Jefe"), through the same crate calls
        // with the key padded as HMAC pads it: a 32-byte key of "Jefe" and
        // zeros gives the same MAC as "Jefe" itself.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let cache = DiskCache { dir: PathBuf::new(), key };
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(hex::encode(cache.mac(&[b"what do ya want ", b"for nothing?"])), expected);
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
