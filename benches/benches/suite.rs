//! The full criterion suite: every scenario of the plan (see
//! `nodehost_benches::scenarios`), one criterion group per scenario with a
//! `BenchmarkId` per runtime (`cpython`, `native-rustpython`,
//! `wasm-rustpython`, `wasm-cpython`, `native-rust`, `wasm-rust`).
//! `cargo bench -- marshal` runs one family; `nodehost-bench` gives the
//! quick report. Criterion's HTML report (plots by plotters) goes to
//! `target/criterion/report/index.html`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use nodehost_benches::scenarios;

fn suite(c: &mut Criterion) {
    for scenario in scenarios::all() {
        let mut group = c.benchmark_group(&scenario.name);
        if scenario.slow {
            group.sample_size(10).warm_up_time(Duration::from_millis(500));
        }
        for &rt in scenario.runtimes.iter().filter(|r| r.available()) {
            let mut case = scenario.case(rt);
            group.throughput(Throughput::Elements(case.items));
            group.bench_function(BenchmarkId::from_parameter(rt.id()), |b| b.iter_custom(|iters| (case.run)(iters).time));
        }
        group.finish();
    }
}

fn main() {
    if std::env::var_os("NODEHOST_WASM_CPYTHON").is_none() {
        let built = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm-cpython/nodehost-cpython.wasm");
        if built.is_file() {
            // SAFETY: set before any other thread starts.
            unsafe { std::env::set_var("NODEHOST_WASM_CPYTHON", built) };
        }
    }
    // Sandboxed calls need a deep native stack: run on a node thread.
    nodehost::on_node_thread(|| {
        let mut c = Criterion::default().configure_from_args();
        suite(&mut c);
        c.final_summary();
    });
}
