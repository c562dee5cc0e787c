//! Calls the calculator node in a tight loop on one runtime, for profilers:
//! `hot_loop <runtime> <calls>` with runtime cpython, native-rustpython,
//! wasm-rustpython, native-rust or wasm-rust.

use nodehost::{Runtime, Value};
use nodehost_benches::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("wasm-rustpython", String::as_str);
    let calls: u64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let params = [("operation", Value::from("add")), ("operand", Value::Int(5))];
    let spec = match which {
        "cpython" => python_node("corpus/calculator.py", "Calculator", &params, Runtime::Cpython),
        "native-rustpython" => python_node("corpus/calculator.py", "Calculator", &params, Runtime::NativeRustpython),
        "wasm-rustpython" => python_node("corpus/calculator.py", "Calculator", &params, Runtime::Wasm),
        "native-rust" => rust_node("calculator", &params, Runtime::Native),
        "wasm-rust" => rust_node("calculator", &params, Runtime::Wasm),
        other => panic!("unknown runtime {other}"),
    };
    nodehost::on_node_thread(|| {
        let mut node = create(&spec);
        let mut out = Vec::with_capacity(1);
        let start = std::time::Instant::now();
        for i in 0..calls as i64 {
            out.clear();
            node.process(Value::Int(i), &mut out).unwrap();
        }
        let per_call = start.elapsed() / calls as u32;
        eprintln!("{which}: {per_call:?} per call over {calls} calls");
    });
}
