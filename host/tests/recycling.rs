//! Instance recycling: nodes lost to traps, a thousand in a row, must give
//! their memory back. Alone in its own test binary, so no other test's
//! memory blurs the measurement.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use nodehost::{NodeFailure, NodeSource, NodeSpec, Runtime, SandboxPolicy, Value};

fn tight() -> SandboxPolicy {
    SandboxPolicy { memory: 16 << 20, timeout: Duration::from_millis(50), ..SandboxPolicy::default() }
}

fn hostile_rust(kind: &str) -> NodeSource {
    let path = std::env::temp_dir().join(format!("nodehost-recycling-{}.wasm", std::process::id()));
    if !path.exists() {
        std::fs::write(&path, nodehost_artifacts::HOSTILE_NODES.bytes).unwrap();
    }
    NodeSource::Component { path, node_type: kind.into() }
}

fn hostile_python(file: &str) -> NodeSource {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(file);
    let source = std::fs::read_to_string(&path).unwrap();
    NodeSource::Python { file: path, source: source.into(), class: String::new() }
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn lost_instances_give_their_memory_back() {
    a_thousand_traps_in_a_row_leave_memory_where_it_was();
    python_instances_lost_to_traps_are_recycled();
}

fn a_thousand_traps_in_a_row_leave_memory_where_it_was() {
    let engine = engine();
    let spec = NodeSpec { id: "trap".into(), source: hostile_rust("leak"), runtime: Runtime::Wasm, params: Value::Null, policy: tight() };
    let trap_once = |engine: &nodehost::WasmEngine| {
        let mut node = spec.create(engine).unwrap();
        let mut out = Vec::new();
        // Grow until the limit traps the instance: four 4 MiB blocks fit at most.
        for _ in 0..8 {
            match node.process(Value::Null, &mut out) {
                Ok(()) => continue,
                Err(NodeFailure::OutOfMemory { .. }) => return,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("never ran out of memory");
    };
    let (baseline, after) = nodehost::on_node_thread(|| {
        for _ in 0..50 {
            trap_once(&engine);
        }
        let baseline = rss();
        for _ in 0..1000 {
            trap_once(&engine);
        }
        (baseline, rss())
    });
    assert!(
        after < baseline + (24 << 20),
        "resident memory grew from {} MiB to {} MiB over 1000 traps",
        baseline >> 20,
        after >> 20
    );
}

fn python_instances_lost_to_traps_are_recycled() {
    let engine = engine();
    let policy = SandboxPolicy { memory: 96 << 20, ..tight() };
    let spec = NodeSpec { id: "loop".into(), source: hostile_python("infinite_loop.py"), runtime: Runtime::Wasm, params: Value::Null, policy };
    let (baseline, after) = nodehost::on_node_thread(|| {
        let trap = || {
            let mut node = spec.create(&engine).unwrap();
            let failure = node.process(Value::Null, &mut Vec::new()).unwrap_err();
            assert!(failure.is_fatal(), "{failure:?}");
        };
        for _ in 0..5 {
            trap();
        }
        let baseline = rss();
        for _ in 0..20 {
            trap();
        }
        (baseline, rss())
    });
    assert!(after < baseline + (48 << 20), "{} MiB -> {} MiB over 20 lost Python instances", baseline >> 20, after >> 20);
}

