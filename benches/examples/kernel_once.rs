//! Runs each pure-Python kernel a few times on one runtime, for A/B
//! comparisons of whole builds (`/usr/bin/time`, several alternating runs,
//! compare the minimum) and for profilers: `kernel_once <runtime> [repeats]`
//! with runtime wasm-rustpython, native-rustpython or cpython.

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
    nodehost::on_node_thread(|| {
        for kernel in KERNELS {
            let mut node = create(&kernel.spec(runtime));
            let mut out: Vec<Value> = Vec::new();
            for _ in 0..repeats {
                out.clear();
                node.process(kernel.input(), &mut out).unwrap();
            }
        }
    });
}
