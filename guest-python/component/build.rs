//! Fetches the time zone data the Python guest embeds (`../build_tzdata.rs`).

#[path = "../build_fetch.rs"]
mod fetch;
#[path = "../build_tzdata.rs"]
mod tzdata;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../build_tzdata.rs");
    println!("cargo:rerun-if-changed=../build_fetch.rs");
    tzdata::prepare();
}
