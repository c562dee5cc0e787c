//! Lets binaries that embed CPython find the same `libpython` PyO3 linked
//! against (for example pyenv's, which is not on the loader's path) by
//! recording its directory as an rpath; on glibc, links the CLI with its
//! relative relocations packed (see below).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The CLI is position-independent, with about 110,000 relative
    // relocations: 2.6 MiB of them to read at every start, about a third
    // of a short run's start-up. Packed (`DT_RELR`, glibc 2.36 and later;
    // older ones refuse to load the binary) they take a few KiB.
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" && glibc_has_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    #[cfg(feature = "cpython")]
    {
        let config = pyo3_build_config::get();
        if let Some(dir) = config.lib_dir() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}

/// Whether the C library the CLI will load with takes packed relocations:
/// glibc 2.36 or later where it is built (for the machine it is built on).
fn glibc_has_relr() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var("HOST").ok() != std::env::var("TARGET").ok() {
            return false;
        }
        unsafe extern "C" {
            fn gnu_get_libc_version() -> *const std::ffi::c_char;
        }
        // SAFETY: glibc returns a static, NUL-terminated version string.
        let version = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) }.to_string_lossy().into_owned();
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (2, 36)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}
