//! Builds the guest crates for `wasm32-wasip2` in release mode and writes
//! `guests.rs`, which embeds the resulting components with their SHA-256.
//!
//! The Python guest is the one exception to "a package of this workspace":
//! it is `guest-python/component`, a workspace of its own built against
//! RustPython 0.6 (see that manifest for why), with its own target directory
//! (`<target>/guests-python`) because its compiler flags differ.
//!
//! The nested build has its own target directory (`<target>/guests`), shared
//! by every profile of the outer build, so the Python guest is compiled once
//! whether you run `cargo test`, `cargo run` or `cargo bench`. Cargo re-runs
//! this script when any source file the guests were built from changes (read
//! from the nested build's `.d` files), except RustPython's patched copies,
//! which this script writes from inputs it watches.
//!
//! It also brings the `wasm-cpython` component (CPython in a component, made
//! by componentize-py from `guest-cpython/`) up to date with
//! `scripts/build-wasm-cpython.sh`, which installs a pinned componentize-py
//! from PyPI into the target directory the first time. That component is
//! not embedded (it is 19 MB and optional): its path is. When it cannot be
//! built (no Python, no pip, no network) the build goes on with a warning
//! and the runtime reports itself unavailable with the reason;
//! `NODEHOST_NO_WASM_CPYTHON=1` skips it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

#[path = "../../guest-python/build_fetch.rs"]
mod fetch;
mod rustpython_patch;

const TARGET: &str = "wasm32-wasip2";

/// (const name, short name, package, library file stem)
const GUESTS: &[(&str, &str, &str, &str)] = &[
    ("PYTHON", "python", PYTHON_PACKAGE, "nodehost_python"),
    ("RUST_NODES", "rust-nodes", "nodehost-rust-nodes", "nodehost_rust_nodes"),
    ("EXAMPLE_RUST_NODE", "example-rust-node", "example-rust-node", "example_rust_node"),
    ("HOSTILE_NODES", "hostile-nodes", "nodehost-hostile-nodes", "nodehost_hostile_nodes"),
];

/// The Python guest's package, in its own workspace.
const PYTHON_PACKAGE: &str = "nodehost-python-component";
/// That workspace, relative to the main one.
const PYTHON_WORKSPACE: &str = "guest-python/component";
/// What RustPython 0.6's parser needs from rustc 1.95: the one library
/// feature it uses that 1.96 made stable (`std::debug_assert_matches`).
const PYTHON_RUSTFLAGS: &str = r#"["-Zcrate-attr=feature(assert_matches)"]"#;

/// Bytes of the Python guest's stack: the depth CPython's 8 MiB C stack
/// allows (recursion through `functools.lru_cache` or `__init__` takes
/// several interpreter frames a level). Untouched, it costs no memory.
const PYTHON_STACK: u32 = 8 << 20;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.join("../..").canonicalize().unwrap();
    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| workspace.join("target"), |p| if p.is_absolute() { p } else { workspace.join(p) });
    let guest_target = target_root.join("guests");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());

    ensure_wasm_target();

    let mut generated = String::new();
    for &(const_name, name, package, stem) in GUESTS {
        let target_dir = if package == PYTHON_PACKAGE { target_root.join("guests-python") } else { guest_target.clone() };
        if package == PYTHON_PACKAGE {
            rustpython_patch::prepare(&workspace.join(PYTHON_WORKSPACE), &target_dir);
        }
        build_guest(&workspace, &target_dir, package);
        let wasm = target_dir.join(TARGET).join("release").join(format!("{stem}.wasm"));
        emit_rerun_from_dep_info(&wasm.with_extension("d"), &workspace.join(PYTHON_WORKSPACE).join("patched"));
        let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        // Copy next to OUT_DIR so the embedded bytes cannot change under a
        // later nested build while this crate is compiled.
        let embedded = out_dir.join(format!("{stem}.wasm"));
        std::fs::write(&embedded, &bytes).unwrap();
        generated.push_str(&format!(
            "/// The `{package}` guest component.\n\
             pub static {const_name}: GuestComponent = GuestComponent {{\n    \
                 name: {name:?},\n    \
                 bytes: include_bytes!({embedded:?}),\n    \
                 sha256: {digest:?},\n\
             }};\n\n"
        ));
    }
    generated.push_str(&wasm_cpython(&workspace, &target_root));
    std::fs::write(out_dir.join("guests.rs"), generated).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=rustpython_patch.rs");
    println!("cargo:rerun-if-changed=rustpython_patch");
    println!("cargo:rerun-if-changed={}", workspace.join("guest-python/build_fetch.rs").display());
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.toml").display());
    println!("cargo:rerun-if-changed={}", workspace.join(PYTHON_WORKSPACE).join("Cargo.toml").display());
    println!("cargo:rerun-if-changed={}", workspace.join(PYTHON_WORKSPACE).join("Cargo.lock").display());
}

/// Build the `wasm-cpython` component if it is stale; the constants that
/// say where it is, or why there is none.
fn wasm_cpython(workspace: &Path, target_root: &Path) -> String {
    let script = workspace.join("scripts/build-wasm-cpython.sh");
    for input in [script.clone(), workspace.join("guest-cpython"), workspace.join("guest-python/python")] {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    println!("cargo:rerun-if-env-changed=NODEHOST_NO_WASM_CPYTHON");
    let out = target_root.join("wasm-cpython/nodehost-cpython.wasm");
    let built = if env::var_os("NODEHOST_NO_WASM_CPYTHON").is_some_and(|v| v == "1") {
        Err("not built: NODEHOST_NO_WASM_CPYTHON=1 was set when nodehost was built".to_owned())
    } else {
        eprintln!("running: bash {}", script.display());
        // The script's output goes to stderr: cargo reads this script's
        // stdout for instructions.
        match Command::new("bash").arg(&script).env("WASM_CPYTHON_OUT", &out).stdout(std::io::stderr()).status() {
            Ok(status) if status.success() && out.is_file() => Ok(out),
            Ok(status) => Err(format!("scripts/build-wasm-cpython.sh failed ({status}) when nodehost was built; run it to see why")),
            Err(e) => Err(format!("could not run scripts/build-wasm-cpython.sh with bash: {e}")),
        }
    };
    match built {
        Ok(path) => format!(
            "/// The `wasm-cpython` component (componentize-py), built with the host.\n\
             pub const WASM_CPYTHON: Result<&str, &str> = Ok({:?});\n",
            path.display().to_string()
        ),
        Err(why) => {
            println!("cargo:warning=the wasm-cpython runtime will be unavailable: {why}");
            format!("/// Why there is no `wasm-cpython` component.\npub const WASM_CPYTHON: Result<&str, &str> = Err({why:?});\n")
        }
    }
}

fn build_guest(workspace: &Path, target_dir: &Path, package: &str) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["rustc", "--release", "--target", TARGET, "--crate-type", "cdylib"])
        .env("CARGO_TARGET_DIR", target_dir)
        // Flags meant for the host build must not leak into the guests.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_PRIMARY_PACKAGE");
    if package == PYTHON_PACKAGE {
        cmd.current_dir(workspace.join(PYTHON_WORKSPACE))
            .args(["--ignore-rust-version", "-Zhost-config", "-Ztarget-applies-to-host"])
            .args(["--config", &format!("host.rustflags={PYTHON_RUSTFLAGS}")])
            .args(["--config", &format!("target.{TARGET}.rustflags={PYTHON_RUSTFLAGS}")])
            // Lets this one nested build use the unstable flags above on a
            // stable toolchain. Nothing of the host's own build uses them.
            .env("RUSTC_BOOTSTRAP", "1")
            // The interpreter's own stack, in linear memory (the target's
            // default is 1 MiB): RustPython raises RecursionError when it
            // runs short, so its size is how deep Python code recurses.
            .args(["--", &format!("-Clink-arg=-zstack-size={PYTHON_STACK}")]);
    } else {
        // The guests' release profile (the Python workspace sets the same in
        // its manifest): one code unit, optimized across crates. Set here,
        // not in the main workspace's profile, which also builds the host.
        cmd.args(["--package", package])
            .args(["--config", "profile.release.lto=\"fat\"", "--config", "profile.release.codegen-units=1"]);
    }
    eprintln!("running: {cmd:?}");
    let status = cmd.status().unwrap_or_else(|e| panic!("could not run cargo: {e}"));
    if !status.success() {
        panic!("building the {package} guest for {TARGET} failed ({status}); see the output above");
    }
}

/// Make sure the standard library for the Wasm target is installed: install
/// it with rustup when possible, else stop with the exact command to run.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = |root: &Option<PathBuf>| {
        root.as_ref().is_some_and(|r| r.join("lib/rustlib").join(TARGET).join("lib").is_dir())
    };
    if installed(&sysroot) {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with `rustup target add {TARGET}`");
    let ok = Command::new("rustup").args(["target", "add", TARGET]).status().is_ok_and(|s| s.success());
    if !ok || !installed(&sysroot) {
        panic!(
            "the Rust standard library for {TARGET} is not installed and could not be installed \
             automatically; run:\n\n    rustup target add {TARGET}\n"
        );
    }
}

/// Watch every file the nested build that wrote `dep_file` read, but those
/// under `written_here`.
fn emit_rerun_from_dep_info(dep_file: &Path, written_here: &Path) {
    let Ok(contents) = std::fs::read_to_string(dep_file) else {
        return;
    };
    for line in contents.lines() {
        let Some((_, deps)) = line.split_once(": ") else { continue };
        let mut parts = deps.split_whitespace();
        while let Some(part) = parts.next() {
            let mut file = part.to_owned();
            // Escaped spaces continue the path.
            while file.ends_with('\\') {
                file.pop();
                file.push(' ');
                file.push_str(parts.next().unwrap_or_default());
            }
            // A path that names no file is no input (RustPython's crate
            // lists one outside itself), and would make every build stale.
            // RustPython's patched copies are written by this script, from
            // inputs it watches: watching them too made the build after
            // every new copy run the script again (they are newer than its
            // start), and rebuild every crate that embeds the guests.
            if Path::new(&file).exists() && !Path::new(&file).starts_with(written_here) {
                println!("cargo:rerun-if-changed={file}");
            }
        }
    }
}
