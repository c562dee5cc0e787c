//! Instance recycling: nodes lost to traps, a thousand in a row, must give
//! their memory back. Alone in a child process, so no other test's
//! memory blurs the measurement.

use std::time::Duration;

use crate::common::*;
use nodehost::{NodeFailure, SandboxPolicy, Value};

fn tight() -> SandboxPolicy {
    SandboxPolicy { memory: 16 << 20, timeout: Duration::from_millis(50), ..SandboxPolicy::default() }
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// The bounds below catch a leak of 1 MiB per lost instance (or much less):
/// each is a small part of instances x 1 MiB, and still far above what
/// resident memory really grows by over these runs (24 KiB over the Rust
/// instances, nothing over the Python ones, measured on the 2-core
/// development machine).
#[test]
fn lost_instances_give_their_memory_back() {
    if !in_child_process(module_path!(), "lost_instances_give_their_memory_back", &[]) {
        return;
    }
    a_thousand_traps_in_a_row_leave_memory_where_it_was();
    python_instances_lost_to_traps_are_recycled();
}

/// Rust instances lost to a trap, and how much resident memory may grow
/// over them (a leak of 1 MiB each would be 1000 MiB).
const RUST_INSTANCES: u64 = 1000;
const RUST_GROWTH: u64 = 16 << 20;

fn a_thousand_traps_in_a_row_leave_memory_where_it_was() {
    let engine = engine();
    // These instances trap on memory, not on time: a deadline of 50 ms
    // could be met first by a call on a loaded machine (seen once while
    // the whole suite ran on two cores).
    let policy = SandboxPolicy { timeout: Duration::from_secs(5), ..tight() };
    let spec = sandboxed("trap", hostile_rust("leak"), policy);
    let trap_once = |engine: &nodehost::WasmEngine| {
        let mut node = spec.create(engine).unwrap();
        let mut out = Vec::new();
        // Grow until the limit traps the instance: four 4 MiB blocks fit at most.
        for _ in 0..8 {
            match node.process(Value::Null, &mut out) {
                Ok(()) => continue,
                Err(NodeFailure::OutOfMemory { limit: 0x100_0000 }) => return,
                Err(e) => panic!("{e:?}"),
            }
        }
        panic!("never ran out of memory");
    };
    let (baseline, after) = nodehost::on_node_thread(|| {
        for _ in 0..50 {
            trap_once(&engine);
        }
        let baseline = rss();
        for _ in 0..RUST_INSTANCES {
            trap_once(&engine);
        }
        (baseline, rss())
    });
    eprintln!("rust: {} KiB -> {} KiB over {RUST_INSTANCES} lost instances", baseline >> 10, after >> 10);
    assert!(
        after < baseline + RUST_GROWTH,
        "resident memory grew from {} MiB to {} MiB over {RUST_INSTANCES} traps",
        baseline >> 20,
        after >> 20
    );
}

/// Python instances lost to a timeout, and how much resident memory may
/// grow over them (a leak of 1 MiB each would be 100 MiB).
const PYTHON_INSTANCES: u64 = 100;
const PYTHON_GROWTH: u64 = 16 << 20;

fn python_instances_lost_to_traps_are_recycled() {
    let engine = engine();
    // Not interruptible, so the loop runs into the hard deadline and the
    // instance is lost.
    let policy = SandboxPolicy { memory: 96 << 20, interruptible: Some(false), ..tight() };
    let spec = sandboxed("loop", hostile_python("infinite_loop.py"), policy);
    let (baseline, after) = nodehost::on_node_thread(|| {
        let trap = || {
            let mut node = spec.create(&engine).unwrap();
            let failure = node.process(Value::Null, &mut Vec::new()).unwrap_err();
            assert!(matches!(failure, NodeFailure::Timeout(_)), "{failure:?}");
        };
        for _ in 0..5 {
            trap();
        }
        let baseline = rss();
        for _ in 0..PYTHON_INSTANCES {
            trap();
        }
        (baseline, rss())
    });
    eprintln!("python: {} KiB -> {} KiB over {PYTHON_INSTANCES} lost instances", baseline >> 10, after >> 10);
    assert!(
        after < baseline + PYTHON_GROWTH,
        "{} MiB -> {} MiB over {PYTHON_INSTANCES} lost Python instances",
        baseline >> 20,
        after >> 20
    );
}
