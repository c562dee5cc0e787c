//! The IANA time zone database for `zoneinfo`, shared by the build scripts
//! of the native runtime (`guest-python/build.rs`) and of the component
//! (`guest-python/component/build.rs`): the PyPI `tzdata` wheel, pinned by
//! version and SHA-256, written to `$OUT_DIR/tzdata.whl` for the crate to
//! embed (`include_bytes!`). The wheel is a zip of the compiled zone files
//! (`tzdata/zoneinfo/Europe/Paris`, ...), which the runtime serves as the
//! `tzdata` package.
//!
//! Where the wheel comes from: `$NODEHOST_TZDATA_WHEEL` (a path, for
//! machines without network), else a copy this build already fetched, else
//! a download with `curl`. A wheel whose SHA-256 is not the pinned one is
//! never used. Without one (offline, no curl) the build goes on with a
//! warning and an empty file, and `zoneinfo` finds no zones.

use std::path::{Path, PathBuf};

use crate::fetch::{download_verified, read_verified};

/// The pinned release of the `tzdata` package (IANA 2026f).
const VERSION: &str = "2026.6";
const URL: &str = "https://files.pythonhosted.org/packages/0a/66/9a06c2227fedfd4919f0eaaa8b94377d9730882a7e4f95823c9a331ab5e1/tzdata-2026.6-py2.py3-none-any.whl";
const SHA256: &str = "0a10eec6e13ef16b627fabed9a5f2ba61a62b1c67f327305f4e7e412a70b4aec";

/// Write the verified wheel (or, failing that, an empty file) to
/// `$OUT_DIR/tzdata.whl`.
pub fn prepare() {
    println!("cargo:rerun-if-env-changed=NODEHOST_TZDATA_WHEEL");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("tzdata.whl");
    let wheel = match std::env::var_os("NODEHOST_TZDATA_WHEEL") {
        Some(path) => read_verified(Path::new(&path), SHA256),
        None => read_verified(&out, SHA256).or_else(|_| download_verified(URL, SHA256, &out)),
    };
    match wheel {
        Ok(bytes) => std::fs::write(&out, bytes).expect("writing tzdata.whl"),
        Err(why) => {
            println!(
                "cargo:warning=no time zone data (tzdata {VERSION}) for the Python runtimes (zoneinfo will find no zones): {why}; \
                 set NODEHOST_TZDATA_WHEEL to a copy of {URL} to build with it"
            );
            std::fs::write(&out, b"").expect("writing tzdata.whl");
        }
    }
}
