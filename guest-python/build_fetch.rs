//! Pinned downloads for the build scripts (`build_tzdata.rs`, and
//! `host/artifacts/rustpython_patch.rs`): a file is used only when its
//! SHA-256 is the pinned one, and fetched with `curl` only when cargo is
//! not offline.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

/// `bytes`' SHA-256, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The file at `path`, if its SHA-256 is `sha256`.
pub fn read_verified(path: &Path, sha256: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let digest = sha256_hex(&bytes);
    if digest != sha256 {
        return Err(format!("{} has SHA-256 {digest}, not the pinned {sha256}", path.display()));
    }
    Ok(bytes)
}

/// Download `url` to `out` with `curl` and check it against `sha256`
/// (a file that fails the check is removed); its bytes.
pub fn download_verified(url: &str, sha256: &str, out: &Path) -> Result<Vec<u8>, String> {
    if std::env::var_os("CARGO_NET_OFFLINE").is_some_and(|v| v == "true") {
        return Err("cargo is offline".into());
    }
    let partial = out.with_extension("download");
    let status = Command::new("curl")
        .args(["--fail", "--silent", "--show-error", "--location", "--retry", "2", "--max-time", "300", "--output"])
        .arg(&partial)
        .arg(url)
        .status()
        .map_err(|e| format!("could not run curl: {e}"))?;
    if !status.success() {
        return Err(format!("downloading {url} failed ({status})"));
    }
    let bytes = read_verified(&partial, sha256);
    if bytes.is_ok() {
        std::fs::rename(&partial, out).map_err(|e| format!("moving {} to {}: {e}", partial.display(), out.display()))?;
    } else {
        let _ = std::fs::remove_file(&partial);
    }
    bytes
}
