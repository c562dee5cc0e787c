//! Calls one node in a tight loop on one runtime, for profilers:
//! `hot_loop <runtime> <calls> [payload]` with runtime cpython,
//! native-rustpython, wasm-rustpython, wasm-cpython, native-rust or
//! wasm-rust. Without a payload the node is the calculator (add 5 to an
//! int); with one of the `marshal/` scenario's names (`list_100`,
//! `audio_48k`, ...) it is the pass-through node given that value. With
//! `NODEHOST_PERF_MAP=1`, `perf report` names the guest's functions.
//! With `NODEHOST_HOT_BATCH=N` the inputs go N at a time through
//! `process_many`, as a pipeline hands them over (sandboxed nodes then
//! take cheap inputs in `process-packed` or `process-batch` calls). With
//! `NODEHOST_HOT_NODE=FILE:CLASS` (a file under `examples/`) a Python
//! runtime calls that node class instead of the calculator. With
//! `NODEHOST_HOT_INPUT=N` every call is given the int N instead of its
//! call number (a kernel's size: `kernels/richards.py:Richards` and 50).

use nodehost::{Runtime, Value};
use nodehost_benches::scenarios::marshal_values;
use nodehost_benches::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("wasm-rustpython", String::as_str);
    let calls: u64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let payload = args.get(3).map(|name| {
        marshal_values()
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no marshal/ value named {name}"))
            .1
    });
    let params = [("operation", Value::from("add")), ("operand", Value::Int(5))];
    let (runtime, rust) = match which {
        "cpython" => (Runtime::Cpython, false),
        "native-rustpython" => (Runtime::NativeRustpython, false),
        "wasm-rustpython" => (Runtime::Wasm, false),
        "wasm-cpython" => (Runtime::WasmCpython, false),
        "native-rust" => (Runtime::Native, true),
        "wasm-rust" => (Runtime::Wasm, true),
        other => panic!("unknown runtime {other}"),
    };
    // `NODEHOST_HOT_NODE=corpus/chain.py:Format`: that Python node class
    // (default parameters) instead of the calculator, given ints.
    let chosen = std::env::var("NODEHOST_HOT_NODE").ok();
    let spec = match (rust, payload.is_some()) {
        (false, false) if let Some((file, class)) = chosen.as_deref().and_then(|c| c.split_once(':')) => {
            python_node(file, class, &[], runtime)
        }
        (false, false) => python_node("corpus/calculator.py", "Calculator", &params, runtime),
        (false, true) => python_node("corpus/pass_through.py", "PassThrough", &[], runtime),
        (true, false) => rust_node("calculator", &params, runtime),
        (true, true) => rust_node("pass-through", &[], runtime),
    };
    nodehost::on_node_thread(|| {
        let mut node = create(&spec);
        let mut out = Vec::with_capacity(1);
        let fixed: Option<i64> = std::env::var("NODEHOST_HOT_INPUT").ok().and_then(|n| n.parse().ok());
        let batch: usize = std::env::var("NODEHOST_HOT_BATCH").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
        let start = std::time::Instant::now();
        if batch > 1 {
            let mut inputs = std::collections::VecDeque::with_capacity(batch);
            let mut answers = Vec::with_capacity(batch);
            let mut i = 0i64;
            while i < calls as i64 {
                while inputs.len() < batch && i < calls as i64 {
                    inputs.push_back(payload.clone().unwrap_or(Value::Int(fixed.unwrap_or(i))));
                    i += 1;
                }
                out.clear();
                answers.clear();
                node.process_many(&mut inputs, std::time::Duration::from_millis(1), &mut out, &mut answers);
                assert!(answers.iter().all(|a| a.result.is_ok()), "a call failed: {answers:?}");
            }
        } else {
            for i in 0..calls as i64 {
                out.clear();
                let input = payload.clone().unwrap_or(Value::Int(fixed.unwrap_or(i)));
                node.process(input, &mut out).unwrap();
            }
        }
        let per_call = start.elapsed() / calls as u32;
        eprintln!("{which}: {per_call:?} per call over {calls} calls");
    });
}
