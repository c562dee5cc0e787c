//! The Python guest's patched crates: crates.io's `rustpython-vm` 0.6.0
//! and `pymath` 0.2.0, each checked against its published SHA-256.
//!
//! - `rustpython-vm` gets nodehost's interruption checkpoint
//!   (`guest-python/component/rustpython-patch/nodehost_checkpoint.rs`): a
//!   new module, and a call to it where a loop jumps back and where a
//!   function starts; a fast path for reading a small int on 32-bit
//!   targets ([`SMALL_INT_FAST_PATH`]); CPython's iteration order for
//!   sets ([`set_order`]); Linux's errno numbers for Python code on WASI
//!   ([`errno`]); CPython's arithmetic and texts where they differed
//!   ([`texts`]); `str.format` keeps the template it parsed last
//!   ([`FORMAT_CACHE`]), and `text % values` the format it parsed last
//!   ([`CFORMAT_CACHE`]); and a node's `process` is called with its
//!   arguments bound as the bytecode's exact-args calls bind them
//!   (`guest-python/component/rustpython-patch/nodehost_call.rs`). Its
//!   build script watches only itself ([`BUILD_SCRIPT_WATCH`]).
//! - `rustpython-codegen` folds no inexact arithmetic ([`texts`]).
//! - `rustpython-stdlib` writes a float array's repr as CPython does ([`texts`]).
//! - `rustpython-common` hashes tuples with the 64-bit xxHash constants on
//!   wasm32 too ([`TUPLE_HASH_64`]), as every 64-bit CPython does; and a
//!   string only one local holds grows in its own buffer on `s += t`
//!   ([`STR_APPEND`]: linear, where 0.6.0 copied the text per append).
//! - `pymath` (RustPython's `math` module) takes its exp, log, pow, sin
//!   and the rest from the C library on WASI too, as it does on Unix,
//!   rather than from the pure-Rust `libm` crate ([`PYMATH_WASI`]), and
//!   rounds `a * b + c` in gamma and lgamma as CPython's C does (not fused).
//!
//! The guest's manifest patches crates.io's crates with the copies this
//! writes to `guest-python/component/patched/` (not in git). The edits are
//! insertions only, each at one place that must occur exactly once in the
//! published source (else the build stops and names it).
//!
//! A copy is rewritten only when its crate, modules or edits change (a stamp
//! file records what it was made from), so an unchanged build does not
//! recompile RustPython.
//!
//! Where a crate comes from: `$NODEHOST_RUSTPYTHON_VM_CRATE` or
//! `$NODEHOST_PYMATH_CRATE` (a path, for machines without network), else
//! cargo's own download cache, else a copy this build fetched before, else
//! `https://static.crates.io` with `curl`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fetch::{download_verified, read_verified, sha256_hex};

mod errno;
mod set_order;
mod texts;

/// One published crate the guest uses patched.
struct Patched {
    /// The crate's name.
    name: &'static str,
    version: &'static str,
    /// Its SHA-256 on crates.io (as in the guest's `Cargo.lock` before the patch).
    sha256: &'static str,
    /// The variable that may name a local copy of its `.crate`.
    env: &'static str,
    /// Modules of nodehost's written into its `src/`: (file name there,
    /// path under the component).
    modules: &'static [(&'static str, &'static str)],
    /// Groups of (file, anchor, text inserted after the anchor), applied in order.
    edits: &'static [&'static [(&'static str, &'static str, &'static str)]],
}

impl Patched {
    fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    fn url(&self) -> String {
        format!("https://static.crates.io/crates/{0}/{0}-{1}.crate", self.name, self.version)
    }
}

/// `str.format` through the last template parsed
/// (`guest-python/component/rustpython-patch/nodehost_format_cache.rs`).
/// (`if true`: the published body after it stays, unreached, without a
/// warning.)
const FORMAT_CACHE: &[(&str, &str, &str)] = &[
    ("src/lib.rs", "pub mod warn;\n", "mod nodehost_format_cache;\n"),
    (
        "src/builtins/str.rs",
        "    fn format(&self, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Wtf8Buf> {\n",
        "        if true {\n            return crate::nodehost_format_cache::format(self.as_wtf8(), &args, vm);\n        }\n",
    ),
];

/// `s += t` on a string only the local holds appends to the string's own
/// buffer (`guest-python/component/rustpython-patch/nodehost_str_append.rs`,
/// in `rustpython-common`), rather than copying the text so far.
const STR_APPEND: &[(&str, &str, &str)] = &[(
    "src/builtins/str.rs",
    "    pub fn concat_in_place(&mut self, other: &Wtf8, vm: &VirtualMachine) {\n",
    "        if self.as_object().strong_count() == 1 {
            // SAFETY: as the published code below: the only reference.
            unsafe {
                let payload = self.payload() as *const PyStr as *mut PyStr;
                (*payload).data.nodehost_append(other);
                (*payload).hash.store(hash::SENTINEL, atomic::Ordering::Relaxed);
            }
            return;
        }\n",
)];

/// `text % values` keeps the format it parsed last, and writes plain `%d`
/// and `%s` fields directly
/// (`guest-python/component/rustpython-patch/nodehost_cformat_cache.rs`, a
/// child module of `cformat`; `if true`: the published body after it
/// stays, unreached, without a warning).
const CFORMAT_CACHE: &[(&str, &str, &str)] = &[
    (
        "src/cformat.rs",
        "//! as per the [Python Docs](https://docs.python.org/3/library/stdtypes.html#printf-style-string-formatting).\n",
        "\n#[path = \"nodehost_cformat_cache.rs\"]\nmod nodehost_cformat_cache;\n",
    ),
    (
        "src/cformat.rs",
        "    values_obj: &PyObject,\n) -> PyResult<Wtf8Buf> {\n",
        "    if true {\n        return nodehost_cformat_cache::cformat_string(vm, format_string, values_obj);\n    }\n",
    ),
];

/// `rustpython-vm`'s build script watches `../../Lib/importlib/_bootstrap.py`,
/// a path of RustPython's own repository that a copy from crates.io lacks.
/// Cargo counts a missing watched path as changed, so every build ran the
/// script again and rebuilt RustPython and the guest (about 9 minutes here),
/// including the second `cargo` command after a fresh one. The copy now
/// watches only its build script, which a new copy rewrites.
const BUILD_SCRIPT_WATCH: &[(&str, &str, &str)] = &[
    (
        "build.rs",
        "fn main() {\n",
        "    // nodehost: watch only this script (host/artifacts/rustpython_patch.rs).\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    if false {\n",
    ),
    ("build.rs", "    println!(\"cargo:rerun-if-changed=../../Lib/importlib/_bootstrap.py\");\n", "    }\n"),
];

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

/// On WASI (neither `unix` nor `windows` to `cfg`) `pymath` 0.2.0 reads its
/// math functions from the `libm` crate, whose exp, log, pow, sin and cos
/// differ from glibc's in the last bit for about one input in ten: a
/// sandboxed node printed other floats than the same node on CPython.
/// wasi-libc's (musl's) functions, which CPython's own WASI build uses,
/// agree with glibc's exp, log and pow on all but a few inputs in
/// thousands. The first insertion takes `pymath`'s C-library modules on
/// WASI as well; the second keeps the `libm` one off there.
const PYMATH_WASI: &str = "#[cfg(target_os = \"wasi\")]\npub(crate) mod m;\n#[cfg(target_os = \"wasi\")]\nmod m_sys;\n";

/// A first arm for each of `hash_tuple`'s four `cfg_select!`s: the 64-bit
/// constants on 32-bit targets too. `PyHash` is 64 bits on every target,
/// but 0.6.0 folds a tuple's element hashes with xxHash's 32-bit primes and
/// rotation on wasm32, so `hash((1, 2))`, and with it the order of a set of
/// tuples, differed from CPython's on Linux.
const TUPLE_HASH_64: [&str; 4] = [
    "        target_pointer_width = \"32\" => 11400714785074694791,\n",
    "        target_pointer_width = \"32\" => 14029467366897019727,\n",
    "        target_pointer_width = \"32\" => 2870177450012600261,\n",
    "        target_pointer_width = \"32\" => 31,\n",
];

/// The crates, and what is done to each.
const CRATES: &[Patched] = &[
    Patched {
        name: "rustpython-vm",
        version: "0.6.0",
        sha256: "0f5e6290260601ddbba6cbe917df9d24725aa6664f61c5bdc1ba24db9c81f346",
        env: "NODEHOST_RUSTPYTHON_VM_CRATE",
        modules: &[
            ("nodehost_checkpoint.rs", "rustpython-patch/nodehost_checkpoint.rs"),
            set_order::MODULE,
            errno::MODULE,
            ("nodehost_format_cache.rs", "rustpython-patch/nodehost_format_cache.rs"),
            ("nodehost_call.rs", "rustpython-patch/nodehost_call.rs"),
            ("nodehost_cformat_cache.rs", "rustpython-patch/nodehost_cformat_cache.rs"),
            texts::MODULE,
        ],
        edits: &[&[
            ("src/lib.rs", "pub mod warn;\n", "#[doc(hidden)]\npub mod nodehost_checkpoint;\n"),
            ("src/lib.rs", "pub mod warn;\n", "#[doc(hidden)]\npub mod nodehost_call;\n"),
            ("src/frame.rs", "Instruction::JumpBackward { .. } => {", CHECKPOINT),
            ("src/frame.rs", "Instruction::JumpBackwardJit | Instruction::JumpBackwardNoJit => {", CHECKPOINT),
            ("src/frame.rs", "Instruction::InstrumentedJumpBackward => {", CHECKPOINT),
            ("src/frame.rs", "Instruction::Resume { .. } | Instruction::ResumeCheck => {", CHECKPOINT),
            ("src/builtins/int.rs", "pub(crate) fn try_to_i64_fast(&self) -> Option<i64> {", SMALL_INT_FAST_PATH),
        ], BUILD_SCRIPT_WATCH, set_order::EDITS, errno::EDITS, texts::VM_EDITS, texts::VM_EDITS_2, texts::VM_TEXTS, texts::VM_REPRS, texts::VM_MATCH_BOUNDS, FORMAT_CACHE, STR_APPEND, CFORMAT_CACHE],
    },
    Patched {
        name: "rustpython-codegen",
        version: "0.6.0",
        sha256: "e49dd431654f74e825e6a99f523f6f18dc18e2812106b29d37e018395a38770b",
        env: "NODEHOST_RUSTPYTHON_CODEGEN_CRATE",
        modules: &[],
        edits: &[texts::CODEGEN_EDITS],
    },
    Patched {
        name: "rustpython-stdlib",
        version: "0.6.0",
        sha256: "be63f0082b47da64d81c00af0e807e9a39d71843cb19a8e8a83a573f34900b0e",
        env: "NODEHOST_RUSTPYTHON_STDLIB_CRATE",
        modules: &[],
        edits: &[texts::STDLIB_EDITS],
    },
    Patched {
        name: "rustpython-common",
        version: "0.6.0",
        sha256: "ee61139fe4c98223662d922bbed5451dd5fa350bd2bf4772804b21ddbbeb3f30",
        env: "NODEHOST_RUSTPYTHON_COMMON_CRATE",
        modules: &[("nodehost_str_append.rs", "rustpython-patch/nodehost_str_append.rs")],
        edits: &[&[
            ("src/str.rs", "use crate::wtf8_index::Wtf8Index;\n", "#[path = \"nodehost_str_append.rs\"]\nmod nodehost_str_append;\n"),
            ("src/hash.rs", "    const PRIME1: PyUHash = cfg_select! {\n", TUPLE_HASH_64[0]),
            ("src/hash.rs", "    const PRIME2: PyUHash = cfg_select! {\n", TUPLE_HASH_64[1]),
            ("src/hash.rs", "    const PRIME5: PyUHash = cfg_select! {\n", TUPLE_HASH_64[2]),
            ("src/hash.rs", "    const ROTATE: u32 = cfg_select! {\n", TUPLE_HASH_64[3]),
        ]],
    },
    Patched {
        name: "pymath",
        version: "0.2.0",
        sha256: "bc10e50b7a1f2cc3887e983721cb51fc7574be0066c84bff3ef9e5c096e8d6d5",
        env: "NODEHOST_PYMATH_CRATE",
        modules: &[],
        edits: &[&[
            ("src/lib.rs", "// Native libm via FFI (unix/windows)\n", PYMATH_WASI),
            ("src/lib.rs", "// Pure Rust libm for WASM and other targets\n", "#[cfg(not(target_os = \"wasi\"))]\n"),
            // RustPython turns on pymath's `mul_add`, which fuses `a * b + c`
            // in gamma and lgamma (on wasm32 a software `fma`); CPython's C
            // rounds the product and the sum separately, and gave other
            // last bits for one lgamma in three. Not fused on WASI.
            ("src/lib.rs", "if cfg!(feature = \"mul_add\")", " && !cfg!(target_os = \"wasi\")"),
        ]],
    },
];

/// Make each crate's copy under `<component>/patched/` if it is missing or
/// stale.
pub fn prepare(component: &Path, target_root: &Path) {
    for krate in CRATES {
        prepare_one(krate, component, &target_root.join("rustpython-patch"));
    }
}

/// Make `<component>/patched/<name>` for `krate` if it is missing or stale.
fn prepare_one(krate: &Patched, component: &Path, downloads: &Path) {
    println!("cargo:rerun-if-env-changed={}", krate.env);
    // What the copy is made from: the crate's checksum, the modules, the edits.
    let mut recipe = krate.sha256.to_owned();
    let modules: Vec<(&str, String)> = krate
        .modules
        .iter()
        .map(|&(name, path)| {
            let path = component.join(path);
            println!("cargo:rerun-if-changed={}", path.display());
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            recipe.push_str(&text);
            (name, text)
        })
        .collect();
    for (file, anchor, text) in krate.edits.iter().copied().flatten() {
        recipe.push_str(&format!("{file}\0{anchor}\0{text}\0"));
    }
    let stamp = sha256_hex(recipe.as_bytes());
    let dest = component.join("patched").join(krate.name);
    let stamp_file = dest.join(".nodehost-patch");
    if std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return;
    }
    let crate_dir = krate.dir_name();
    let archive = fetch(krate, downloads).unwrap_or_else(|why| {
        panic!("cannot get {crate_dir} for the Python guest: {why}; set {} to a copy of {}", krate.env, krate.url())
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
    let root = staging.join(&crate_dir);
    for (file, anchor, text) in krate.edits.iter().copied().flatten() {
        let path = root.join(file);
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let found = source.matches(anchor).count();
        assert!(found == 1, "{crate_dir}/{file}: the patch's anchor {anchor:?} occurs {found} times, not once");
        let at = source.find(anchor).unwrap() + anchor.len();
        std::fs::write(&path, format!("{}{text}{}", &source[..at], &source[at..])).unwrap();
    }
    for (name, text) in modules {
        std::fs::write(root.join("src").join(name), text).unwrap();
    }
    std::fs::write(root.join(".nodehost-patch"), &stamp).unwrap();
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&root, &dest).unwrap_or_else(|e| panic!("moving the patched crate to {}: {e}", dest.display()));
    let _ = std::fs::remove_dir_all(&staging);
}

/// The verified `.crate` archive: the crate's variable, cargo's download
/// cache, a copy fetched before into `dir`, or a download.
fn fetch(krate: &Patched, dir: &Path) -> Result<PathBuf, String> {
    let verify = |path: &Path| read_verified(path, krate.sha256).map(drop);
    if let Some(path) = std::env::var_os(krate.env) {
        let path = PathBuf::from(path);
        return verify(&path).map(|()| path);
    }
    let file = format!("{}.crate", krate.dir_name());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(cache) = cargo_home.map(|h| h.join("registry/cache"))
        && let Ok(registries) = std::fs::read_dir(cache)
    {
        for registry in registries.flatten() {
            let path = registry.path().join(&file);
            if path.is_file() && verify(&path).is_ok() {
                return Ok(path);
            }
        }
    }
    let path = dir.join(&file);
    if verify(&path).is_ok() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    download_verified(&krate.url(), krate.sha256, &path).map(|_| path)
}
