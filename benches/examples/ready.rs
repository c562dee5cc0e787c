//! Time to a ready sandboxed Python node in this process: creates `n`
//! calculator nodes one after another and prints each creation time
//! (`NODEHOST_SNAPSHOTS=off` for the plain component).

use std::time::Instant;

use nodehost::{Runtime, Value};
use nodehost_benches::{create, python_node};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(10);
    let params = [("operation", Value::from("add")), ("operand", Value::Int(5))];
    let spec = python_node("corpus/calculator.py", "Calculator", &params, Runtime::Wasm);
    nodehost::on_node_thread(|| {
        let mut times = Vec::new();
        for _ in 0..n {
            let t = Instant::now();
            let mut node = create(&spec);
            let mut out = Vec::new();
            node.process(Value::Int(1), &mut out).unwrap();
            times.push(t.elapsed());
        }
        eprintln!("first: {:?}; then: {:?}", times[0], &times[1..]);
    });
}
