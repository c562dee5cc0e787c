//! Gives the Wasm build a larger shadow stack: RustPython keeps frames there,
//! and the default 1 MiB overflows long before Python's recursion limit.
//! Fetches the time zone data the runtime embeds (`build_tzdata.rs`).

#[path = "build_fetch.rs"]
mod fetch;
#[path = "build_tzdata.rs"]
mod tzdata;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_tzdata.rs");
    println!("cargo:rerun-if-changed=build_fetch.rs");
    println!("cargo:rerun-if-changed=python/nodehost.py");
    println!("cargo:rerun-if-changed=python/_nodehost_time.py");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=8388608");
    }
    tzdata::prepare();
}
