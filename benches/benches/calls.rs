//! Per-call cost of a trivial node (`calculator`, add 5) on every runtime:
//! the same Python file on CPython, native RustPython and sandboxed
//! RustPython; the same Rust node natively and sandboxed.

use criterion::{BenchmarkId, Criterion};
use nodehost::Value;
use nodehost_benches::*;

fn trivial_calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("calculator_add_5");
    let params = [("operation", Value::from("add")), ("operand", Value::Int(5))];
    for runtime in PYTHON_RUNTIMES {
        let mut node = create(&python_node("corpus/calculator.py", "Calculator", &params, runtime));
        let mut out = Vec::with_capacity(1);
        let mut i = 0i64;
        group.bench_function(BenchmarkId::from_parameter(runtime_id(runtime, true)), |b| {
            b.iter(|| {
                out.clear();
                i += 1;
                node.process(Value::Int(i), &mut out).unwrap();
            })
        });
    }
    for runtime in RUST_RUNTIMES {
        let mut node = create(&rust_node("calculator", &params, runtime));
        let mut out = Vec::with_capacity(1);
        let mut i = 0i64;
        group.bench_function(BenchmarkId::from_parameter(runtime_id(runtime, false)), |b| {
            b.iter(|| {
                out.clear();
                i += 1;
                node.process(Value::Int(i), &mut out).unwrap();
            })
        });
    }
    group.finish();
}

fn main() {
    // Sandboxed calls need a deep native stack: run on a node thread.
    nodehost::on_node_thread(|| {
        let mut c = Criterion::default().configure_from_args();
        trivial_calls(&mut c);
        c.final_summary();
    });
}
