//! Lets binaries that embed CPython find the same `libpython` PyO3 linked
//! against (for example pyenv's, which is not on the loader's path) by
//! recording its directory as an rpath.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "cpython")]
    {
        let config = pyo3_build_config::get();
        if let Some(dir) = config.lib_dir() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
