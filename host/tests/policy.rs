//! Policy grants and budgets: directories (read-only and writable),
//! environment variables by name, fuel, and the wasm stack limit.

mod common;

use std::time::Duration;

use common::*;
use nodehost::policy::DirGrant;
use nodehost::{NodeFailure, NodeSource, NodeSpec, Runtime, SandboxPolicy, Value};

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nodehost-policy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "hello from the host").unwrap();
    dir
}

fn grants(policy: SandboxPolicy) -> NodeSpec {
    python(test_python("grants.py"), "Grants", Value::Null, Runtime::Wasm).with_policy(policy)
}

#[test]
fn a_read_only_directory_can_be_read_but_not_written() {
    let dir = scratch_dir("ro");
    let policy = SandboxPolicy {
        dirs: vec![DirGrant { host: dir.clone(), guest: "/data".into(), writable: false }],
        ..SandboxPolicy::default()
    };
    let out = run_node(&grants(policy), vec!["read".into(), "list".into(), "write".into()]).unwrap().outputs();
    assert_eq!(out[0], Value::from("hello from the host"));
    assert_eq!(out[1], jsons(r#"[["hello.txt"]]"#)[0]);
    assert!(out[2].as_str().unwrap().starts_with("refused: "), "{:?}", out[2]);
    assert!(!dir.join("written.txt").exists());
}

#[test]
fn a_writable_directory_can_be_written() {
    let dir = scratch_dir("rw");
    let policy = SandboxPolicy {
        dirs: vec![DirGrant { host: dir.clone(), guest: "/data".into(), writable: true }],
        ..SandboxPolicy::default()
    };
    let out = run_node(&grants(policy), vec!["write".into()]).unwrap().outputs();
    assert_eq!(out, vec![Value::from("wrote")]);
    assert_eq!(std::fs::read_to_string(dir.join("written.txt")).unwrap(), "from the node");
}

#[test]
fn only_named_environment_variables_pass_through() {
    // SAFETY: set before any node reads the environment; tests in this
    // file do not read these names elsewhere.
    unsafe {
        std::env::set_var("NODEHOST_TEST_GRANTED", "yes");
        std::env::set_var("NODEHOST_TEST_SECRET", "leaked");
    }
    let policy = SandboxPolicy { env: vec!["NODEHOST_TEST_GRANTED".into()], ..SandboxPolicy::default() };
    let out = run_node(&grants(policy), vec!["env".into()]).unwrap().outputs();
    assert_eq!(out, vec![Value::from("yes/missing")]);
    // Without a grant, neither.
    let out = run_node(&grants(SandboxPolicy::default()), vec!["env".into(), "read".into()]).unwrap().outputs();
    assert_eq!(out[0], Value::from("missing/missing"));
    assert!(out[1].as_str().unwrap().starts_with("refused: "));
}

fn hostile(kind: &str, policy: SandboxPolicy) -> NodeSpec {
    let path = std::env::temp_dir().join(format!("nodehost-policy-{}.wasm", std::process::id()));
    if !path.exists() {
        std::fs::write(&path, nodehost_artifacts::HOSTILE_NODES.bytes).unwrap();
    }
    NodeSpec {
        id: kind.into(),
        source: NodeSource::Component { path, node_type: kind.into() },
        runtime: Runtime::Wasm,
        params: Value::Null,
        policy,
    }
}

#[test]
fn fuel_is_a_deterministic_budget() {
    let policy = SandboxPolicy { fuel: Some(5_000_000), timeout: Duration::from_secs(30), ..SandboxPolicy::default() };
    let run = run_node(&hostile("spin", policy.clone()), vec![Value::Null]).unwrap();
    assert!(matches!(run.items[0], Err(NodeFailure::OutOfFuel(5_000_000))), "{:?}", run.items[0]);
    // A cheap call fits, every time.
    let run = run_node(&hostile("echo", policy.clone()), vec![1.into(), 2.into(), 3.into()]).unwrap();
    assert_eq!(run.outputs(), vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
    // And Python nodes can have fuel too.
    let spec = python(example("corpus/calculator.py"), "Calculator", json(r#"{"operand": 5}"#), Runtime::Wasm)
        .with_policy(SandboxPolicy { fuel: Some(50_000_000), ..SandboxPolicy::default() });
    assert_eq!(run_node(&spec, vec![1.into()]).unwrap().outputs(), vec![Value::Int(6)]);
}

#[test]
fn a_smaller_wasm_stack_overflows_sooner_and_is_reported_as_such() {
    let policy = SandboxPolicy { max_wasm_stack: Some(256 << 10), ..SandboxPolicy::default() };
    let run = run_node(&hostile("recurse", policy), vec![Value::Null]).unwrap();
    assert!(matches!(run.items[0], Err(NodeFailure::StackOverflow)), "{:?}", run.items[0]);
}
