//! The pure-Python kernels of the benchmark report (`examples/kernels`, the
//! list in `benches/src/kernels.rs`) on RustPython 0.6 linked natively: the
//! like-for-like baseline for the sandbox's RustPython 0.6, which the main
//! workspace cannot link on rustc 1.95 (README, "Versions").
//! `scripts/native-rustpython-0.6-kernels.sh` builds and runs it
//! (`kernels [seconds per kernel] [kernel]`, all kernels by default); it prints
//! the median time per call of each kernel, as `nodehost-bench` does, and
//! in nanoseconds last on the line, which `nodehost-bench` reads to set the
//! sandbox against it in its report.

use std::time::{Duration, Instant};

use nodehost_python::PythonRuntime;
use nodehost_sdk::{DynNode, Value};

/// (name, file under `examples/kernels`, class, input): as in
/// `benches/src/kernels.rs`.
const KERNELS: &[(&str, &str, &str, i64)] = &[
    ("nbody", "nbody.py", "NBody", 200),
    ("spectral_norm", "spectral_norm.py", "SpectralNorm", 24),
    ("richards", "richards.py", "Richards", 500),
    ("float", "float_points.py", "FloatPoints", 1000),
    ("fannkuch", "fannkuch.py", "Fannkuch", 6),
    ("json_dumps", "json_kernel.py", "JsonDumps", 20),
    ("json_loads", "json_kernel.py", "JsonLoads", 20),
];

fn main() {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let only = std::env::args().nth(2);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kernels");
    for &(name, file, class, input) in KERNELS.iter().filter(|k| only.as_deref().is_none_or(|o| o == k.0)) {
        let path = dir.join(file);
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let runtime = PythonRuntime::new().expect("an interpreter");
        runtime.load_module(&path.display().to_string(), &source).expect("the kernel module");
        let mut node = runtime.create(class, Value::Null).expect("the kernel node");
        let mut out = Vec::new();
        let mut call = || {
            out.clear();
            let started = Instant::now();
            node.process(Value::Int(input), &mut out).expect("a kernel call");
            started.elapsed()
        };
        call();
        let budget = Instant::now();
        let mut times: Vec<Duration> = Vec::new();
        while times.len() < 5 || budget.elapsed().as_secs_f64() < seconds {
            times.push(call());
        }
        times.sort();
        let median = times[times.len() / 2];
        println!("kernel/{name} native-rustpython-0.6 median {median:.2?} ({} calls) {} ns", times.len(), median.as_nanos());
    }
}
