//! Policy grants and budgets: directories (read-only and writable),
//! environment variables by name, fuel, and the wasm stack limit.

use std::time::Duration;

use crate::common::*;
use nodehost::policy::DirGrant;
use nodehost::{NodeFailure, NodeSpec, Runtime, SandboxPolicy, Value};

/// A fresh directory with `hello.txt` in it.
fn granted_dir(name: &str) -> tempfile::TempDir {
    let dir = scratch_dir(name);
    std::fs::write(dir.path().join("hello.txt"), "hello from the host").unwrap();
    dir
}

fn grants(policy: SandboxPolicy) -> NodeSpec {
    python(test_python("grants.py"), "Grants", Value::Null, Runtime::Wasm).with_policy(policy)
}

#[test]
fn a_read_only_directory_can_be_read_but_not_written() {
    let scratch = granted_dir("ro");
    let dir = scratch.path();
    let policy = SandboxPolicy {
        dirs: vec![DirGrant { host: dir.to_owned(), guest: "/data".into(), writable: false }],
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
    let scratch = granted_dir("rw");
    let dir = scratch.path();
    let policy = SandboxPolicy {
        dirs: vec![DirGrant { host: dir.to_owned(), guest: "/data".into(), writable: true }],
        ..SandboxPolicy::default()
    };
    let out = run_node(&grants(policy), vec!["write".into()]).unwrap().outputs();
    assert_eq!(out, vec![Value::from("wrote")]);
    assert_eq!(std::fs::read_to_string(dir.join("written.txt")).unwrap(), "from the node");
}

#[test]
fn only_named_environment_variables_pass_through() {
    // The variables are set in a child process of this test binary, which
    // runs this test alone (see `in_child_process` for why not `set_var`).
    let env = [("NODEHOST_TEST_GRANTED", "yes"), ("NODEHOST_TEST_SECRET", "leaked")];
    if !in_child_process(module_path!(), "only_named_environment_variables_pass_through", &env) {
        return;
    }
    // Both are really there for the host to pass on.
    assert_eq!(std::env::var("NODEHOST_TEST_SECRET").as_deref(), Ok("leaked"));
    let policy = SandboxPolicy { env: vec!["NODEHOST_TEST_GRANTED".into()], ..SandboxPolicy::default() };
    let out = run_node(&grants(policy), vec!["env".into()]).unwrap().outputs();
    assert_eq!(out, vec![Value::from("yes/missing")]);
    // Without a grant, neither.
    let out = run_node(&grants(SandboxPolicy::default()), vec!["env".into(), "read".into()]).unwrap().outputs();
    assert_eq!(out[0], Value::from("missing/missing"));
    assert!(out[1].as_str().unwrap().starts_with("refused: "));
}

fn hostile(kind: &str, policy: SandboxPolicy) -> NodeSpec {
    sandboxed(kind, hostile_rust(kind), policy)
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

#[test]
fn a_running_call_can_be_cancelled_from_another_thread() {
    let policy = SandboxPolicy { timeout: Duration::from_secs(60), ..SandboxPolicy::default() };
    let spec = hostile("spin", policy);
    let engine = engine();
    nodehost::on_node_thread(|| {
        let mut node = spec.create(&engine).unwrap();
        let cancel = node.cancel_handle().expect("a sandboxed node can be cancelled");
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cancel.cancel();
        });
        let started = std::time::Instant::now();
        let failure = node.process(Value::Null, &mut Vec::new()).unwrap_err();
        canceller.join().unwrap();
        assert!(matches!(failure, NodeFailure::Cancelled), "{failure}");
        // Stopped within ticks of the cancellation, far before the deadline.
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(failure.is_fatal());
        // The instance is lost, as after a timeout.
        assert!(matches!(node.process(Value::Null, &mut Vec::new()), Err(NodeFailure::Poisoned)));
    });
}
