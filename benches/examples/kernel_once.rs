//! Runs each pure-Python kernel a few times on one runtime, for A/B
//! comparisons of whole builds (`/usr/bin/time`, several alternating runs,
//! compare the minimum) and for profilers: `kernel_once <runtime> [repeats]
//! [kernel]` with runtime wasm-rustpython, native-rustpython or cpython, and
//! optionally one kernel by name (all of them by default); it prints each
//! kernel's median time per call on stderr. With
//! `NODEHOST_PERF_MAP=1`, `perf report` names the guest's functions.

use nodehost::{Runtime, Value};
use nodehost_benches::{create, kernels::KERNELS};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = match args.get(1).map_or("wasm-rustpython", String::as_str) {
        "wasm-rustpython" => Runtime::Wasm,
        "native-rustpython" => Runtime::NativeRustpython,
        "cpython" => Runtime::Cpython,
        other => panic!("unknown runtime {other}"),
    };
    let repeats: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(3);
    let only = args.get(3);
    nodehost::on_node_thread(|| {
        for kernel in KERNELS.iter().filter(|k| only.is_none_or(|name| k.name == name)) {
            let mut node = create(&kernel.spec(runtime));
            let mut out: Vec<Value> = Vec::new();
            let mut times = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                out.clear();
                let started = std::time::Instant::now();
                node.process(kernel.input(), &mut out).unwrap();
                times.push(started.elapsed());
            }
            times.sort();
            if let Some(median) = times.get(times.len() / 2) {
                eprintln!("kernel/{} median {median:.2?} ({repeats} calls)", kernel.name);
            }
        }
    });
}
