//! Gives the Wasm build a larger shadow stack: RustPython keeps frames there,
//! and the default 1 MiB overflows long before Python's recursion limit.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=python/nodehost.py");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=8388608");
    }
}
