//! The Python guest's `rustpython-vm`: crates.io's 0.6.0, checked against
//! its published SHA-256, with nodehost's interruption checkpoint added
//! (`guest-python/component/rustpython-patch/nodehost_checkpoint.rs`). The
//! guest's manifest patches crates.io's `rustpython-vm` with the copy this
//! writes to `guest-python/component/patched/rustpython-vm` (not in git).
//!
//! The edits are insertions only, each at one place that must occur exactly
//! once in the published source (else the build stops and names it): a new
//! module, and a call to it where a loop jumps back and where a function
//! starts; and a fast path for reading a small int on 32-bit targets
//! ([`SMALL_INT_FAST_PATH`]).
//!
//! The copy is rewritten only when the crate, the module or the edits
//! change (a stamp file records what it was made from), so an unchanged
//! build does not recompile RustPython.
//!
//! Where the crate comes from: `$NODEHOST_RUSTPYTHON_VM_CRATE` (a path, for
//! machines without network), else cargo's own download cache, else a copy
//! this build fetched before, else `https://static.crates.io` with `curl`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fetch::{download_verified, read_verified, sha256_hex};

/// The crate patched, as published.
const CRATE: &str = "rustpython-vm-0.6.0";
/// Its SHA-256 on crates.io (as in the guest's `Cargo.lock` before the patch).
const SHA256: &str = "0f5e6290260601ddbba6cbe917df9d24725aa6664f61c5bdc1ba24db9c81f346";
const URL: &str = "https://static.crates.io/crates/rustpython-vm/rustpython-vm-0.6.0.crate";

/// The checkpoint call inserted after each anchor.
const CHECKPOINT: &str = "\n                crate::nodehost_checkpoint::reached(vm)?;";

/// Read at the start of `PyInt::try_to_i64_fast`, which the interpreter's
/// fast paths for int `+`, `-`, `*`, indexing and small-int checks go
/// through. On wasm32 malachite's limbs are 32 bits, and the published path
/// (bit count, then an iterator pairing limbs into 64-bit digits) took 10%
/// of the `spectral_norm` kernel's time in the sandbox, against under 1%
/// natively (perf, wasmtime's perf map). An int below 2**32 in magnitude is
/// one limb, read in constant time; larger ones take the published path.
const SMALL_INT_FAST_PATH: &str = "
        #[cfg(target_pointer_width = \"32\")]
        if let Some(small) = self.as_bigint().magnitude().to_u32() {
            let small = i64::from(small);
            return Some(if self.as_bigint().sign() == Sign::Minus { -small } else { small });
        }";

/// (file, anchor, text inserted after the anchor)
const EDITS: &[(&str, &str, &str)] = &[
    ("src/lib.rs", "pub mod warn;\n", "#[doc(hidden)]\npub mod nodehost_checkpoint;\n"),
    ("src/frame.rs", "Instruction::JumpBackward { .. } => {", CHECKPOINT),
    ("src/frame.rs", "Instruction::JumpBackwardJit | Instruction::JumpBackwardNoJit => {", CHECKPOINT),
    ("src/frame.rs", "Instruction::InstrumentedJumpBackward => {", CHECKPOINT),
    ("src/frame.rs", "Instruction::Resume { .. } | Instruction::ResumeCheck => {", CHECKPOINT),
    ("src/builtins/int.rs", "pub(crate) fn try_to_i64_fast(&self) -> Option<i64> {", SMALL_INT_FAST_PATH),
];

/// Make `<component>/patched/rustpython-vm` if it is missing or stale.
pub fn prepare(component: &Path, target_root: &Path) {
    println!("cargo:rerun-if-env-changed=NODEHOST_RUSTPYTHON_VM_CRATE");
    let module_path = component.join("rustpython-patch/nodehost_checkpoint.rs");
    println!("cargo:rerun-if-changed={}", module_path.display());
    let module = std::fs::read_to_string(&module_path).unwrap_or_else(|e| panic!("reading {}: {e}", module_path.display()));
    // What the copy is made from: the crate's checksum, the module, the edits.
    let mut recipe = format!("{SHA256}{module}");
    for (file, anchor, text) in EDITS {
        recipe.push_str(&format!("{file}\0{anchor}\0{text}\0"));
    }
    let stamp = sha256_hex(recipe.as_bytes());
    let dest = component.join("patched/rustpython-vm");
    let stamp_file = dest.join(".nodehost-patch");
    if std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return;
    }
    let archive = fetch(&target_root.join("rustpython-patch")).unwrap_or_else(|why| {
        panic!(
            "cannot get {CRATE} for the Python guest: {why}; set NODEHOST_RUSTPYTHON_VM_CRATE to a copy of {URL}"
        )
    });
    let staging = component.join("patched/.staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .status()
        .unwrap_or_else(|e| panic!("could not run tar: {e}"));
    assert!(status.success(), "tar could not unpack {}", archive.display());
    let root = staging.join(CRATE);
    for (file, anchor, text) in EDITS {
        let path = root.join(file);
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let found = source.matches(anchor).count();
        assert!(found == 1, "{CRATE}/{file}: the patch's anchor {anchor:?} occurs {found} times, not once");
        let at = source.find(anchor).unwrap() + anchor.len();
        std::fs::write(&path, format!("{}{text}{}", &source[..at], &source[at..])).unwrap();
    }
    std::fs::write(root.join("src/nodehost_checkpoint.rs"), &module).unwrap();
    std::fs::write(root.join(".nodehost-patch"), &stamp).unwrap();
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&root, &dest).unwrap_or_else(|e| panic!("moving the patched crate to {}: {e}", dest.display()));
    let _ = std::fs::remove_dir_all(&staging);
}

/// The verified `.crate` archive: `$NODEHOST_RUSTPYTHON_VM_CRATE`, cargo's
/// download cache, a copy fetched before into `dir`, or a download.
fn fetch(dir: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("NODEHOST_RUSTPYTHON_VM_CRATE") {
        let path = PathBuf::from(path);
        return verify(&path).map(|()| path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(cache) = cargo_home.map(|h| h.join("registry/cache"))
        && let Ok(registries) = std::fs::read_dir(cache)
    {
        for registry in registries.flatten() {
            let path = registry.path().join(format!("{CRATE}.crate"));
            if path.is_file() && verify(&path).is_ok() {
                return Ok(path);
            }
        }
    }
    let path = dir.join(format!("{CRATE}.crate"));
    if verify(&path).is_ok() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    download_verified(URL, SHA256, &path).map(|_| path)
}

fn verify(path: &Path) -> Result<(), String> {
    read_verified(path, SHA256).map(drop)
}
