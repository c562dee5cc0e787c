//! The built-in Rust nodes, sandboxed and native: the same code must give the
//! same outputs and the same errors; plus a user's Rust node loaded from its
//! own component file, and components that are not what they claim.

use crate::common::*;
use nodehost::{Error, GuestErrorKind, NodeFailure, NodeSource, NodeSpec, Runtime, SandboxPolicy, Value};

const RUST_RUNTIMES: [Runtime; 2] = [Runtime::Wasm, Runtime::Native];

struct Case {
    node: &'static str,
    params: &'static str,
    inputs: &'static str,
    expected: &'static str,
}

const CASES: &[Case] = &[
    Case { node: "pass-through", params: "{}", inputs: r#"[1, "a", [null, {"k": 2.5}]]"#, expected: r#"[1, "a", [null, {"k": 2.5}]]"# },
    Case { node: "calculator", params: r#"{"operation": "add", "operand": 5}"#, inputs: "[1, 2.5, -7]", expected: "[6, 7.5, -2]" },
    Case { node: "calculator", params: r#"{"operation": "divide", "operand": 4}"#, inputs: "[10, 1]", expected: "[2.5, 0.25]" },
    Case { node: "filter", params: r#"{"min": 0, "max": 10}"#, inputs: "[-1, 0, 5.5, 10, 11]", expected: "[0, 5.5, 10]" },
    Case {
        node: "filter",
        params: r#"{"min": 1, "field": "x"}"#,
        inputs: r#"[{"x": 0}, {"x": 2, "y": "kept"}]"#,
        expected: r#"[{"x": 2, "y": "kept"}]"#,
    },
    Case {
        node: "accumulator",
        params: r#"{"window": 2}"#,
        inputs: "[1, 2, 4]",
        expected: r#"[{"sum": 1.0, "average": 1.0, "count": 1}, {"sum": 3.0, "average": 1.5, "count": 2},
                      {"sum": 6.0, "average": 3.0, "count": 2}]"#,
    },
    Case {
        node: "gain",
        params: r#"{"gain": 2.0, "clip": true}"#,
        inputs: r#"[{"$audio": {"sample_rate": 8000, "channels": 1, "samples": [0.25, -0.75, 0.0]}}]"#,
        expected: r#"[{"$audio": {"sample_rate": 8000, "channels": 1, "samples": [0.5, -1.0, 0.0]}}]"#,
    },
    Case {
        node: "rms",
        params: r#"{"threshold_db": -10}"#,
        inputs: r#"[{"$audio": {"sample_rate": 8000, "channels": 1, "samples": [0.5, -0.5, 0.5, -0.5]}},
                    {"$audio": {"sample_rate": 8000, "channels": 1, "samples": [0.0, 0.0]}}]"#,
        expected: r#"[{"rms": 0.5, "rms_db": -6.020599913279624, "peak": 0.5, "energy": 1.0, "active": true},
                      {"rms": 0.0, "rms_db": -120.0, "peak": 0.0, "energy": 0.0, "active": false}]"#,
    },
    Case { node: "text", params: r#"{"operation": "reverse"}"#, inputs: r#"["abc", "héllo"]"#, expected: r#"["cba", "olléh"]"# },
    Case {
        node: "text",
        params: r#"{"operation": "format", "template": "{name}: {v:.1}"}"#,
        inputs: r#"[{"name": "a", "v": 1.25}]"#,
        expected: r#"["a: 1.2"]"#,
    },
    Case {
        node: "json",
        params: r#"{"fields": ["action", "room", "end"], "drop_null": true, "decimals": 1}"#,
        inputs: r#"[{"end": 2.71, "room": null, "action": "on"}, {"action": "off", "room": "hall", "end": 1}]"#,
        expected: r#"["{\"action\":\"on\",\"end\":2.7}", "{\"action\":\"off\",\"room\":\"hall\",\"end\":1}"]"#,
    },
    Case {
        node: "resample",
        params: r#"{"rate": 8000}"#,
        inputs: r#"[{"$audio": {"sample_rate": 8000, "channels": 2, "samples": [0.5, -0.5, 0.25, 0.75]}}]"#,
        expected: r#"[{"$audio": {"sample_rate": 8000, "channels": 1, "samples": [0.0, 0.5]}}]"#,
    },
];

#[test]
fn every_builtin_node_gives_the_same_outputs_sandboxed_and_native() {
    let mut failures = Vec::new();
    for case in CASES {
        for runtime in RUST_RUNTIMES {
            let spec = NodeSpec::builtin(case.node, case.node, runtime).with_params(json(case.params));
            match run_node(&spec, jsons(case.inputs)).map(|r| r.outputs()) {
                Ok(out) if out == jsons(case.expected) => {}
                Ok(out) => failures.push(format!("{} on {runtime}: got {}", case.node, Value::List(out))),
                Err(e) => failures.push(format!("{} on {runtime}: {e}", case.node)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn node_errors_are_typed_and_the_node_lives_on() {
    for runtime in RUST_RUNTIMES {
        let spec = NodeSpec::builtin("calc", "calculator", runtime).with_params(json(r#"{"operation": "divide", "operand": 0}"#));
        let run = run_node(&spec, jsons(r#"[1, "x"]"#)).unwrap();
        let Err(NodeFailure::Guest(e)) = &run.items[0] else { panic!("{runtime}: {:?}", run.items[0]) };
        assert_eq!((e.kind, e.message.as_str()), (GuestErrorKind::Raised, "division by zero"), "{runtime}");
        let Err(NodeFailure::Guest(e)) = &run.items[1] else { panic!("{runtime}: {:?}", run.items[1]) };
        assert_eq!((e.kind, e.message.as_str()), (GuestErrorKind::InvalidInput, "expected a number, got str \"x\""), "{runtime}");

        let spec = NodeSpec::builtin("calc", "calculator", runtime).with_params(json(r#"{"operation": "modulo"}"#));
        let err = run_node(&spec, vec![]).unwrap_err();
        let e = err.node_failure().and_then(NodeFailure::guest).unwrap();
        assert_eq!(e.kind, GuestErrorKind::InvalidParams, "{runtime}");
        assert!(e.message.contains("unknown operation 'modulo'"), "{runtime}: {e:?}");

        let spec = NodeSpec::builtin("g", "gain", runtime).with_params(json(r#"{"gian": 2}"#));
        let err = run_node(&spec, vec![]).unwrap_err();
        assert!(err.to_string().contains("unknown parameter 'gian'"), "{runtime}: {err}");

        let spec = NodeSpec::builtin("x", "no-such-node", runtime);
        let err = run_node(&spec, vec![]).unwrap_err();
        assert_eq!(err.node_failure().and_then(NodeFailure::guest).unwrap().kind, GuestErrorKind::UnknownType, "{runtime}");
    }
}

fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    component_file(name, bytes)
}

#[test]
fn a_users_rust_node_runs_from_its_own_component_file() {
    let path = write_temp("example_rust_node.wasm", nodehost_artifacts::EXAMPLE_RUST_NODE.bytes);
    let spec = NodeSpec {
        id: "clamp".into(),
        source: NodeSource::Component { path: path.clone(), node_type: "clamp".into() },
        runtime: Runtime::Wasm,
        params: json(r#"{"low": 0, "high": 1}"#),
        policy: SandboxPolicy::default(),
    };
    let outputs = run_node(&spec, jsons("[-0.5, 0.5, 3]")).unwrap().outputs();
    assert_eq!(outputs, jsons(r#"[0.0, 0.5, 1.0, {"clamped": 2}]"#));

    let types = nodehost::tools::types::node_types(&engine(), Some(&path)).unwrap();
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].name, "clamp");
    assert_eq!(types[0].params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["low", "high"]);
}

#[test]
fn files_that_are_not_node_components_fail_to_load_with_a_reason() {
    let python = nodehost_artifacts::RUST_NODES.bytes;
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("garbage.wasm", b"definitely not wasm".to_vec(), false),
        ("truncated.wasm", python[..python.len() / 2].to_vec(), false),
        ("core-module.wasm", wat_module(), false),
        ("empty-component.wasm", b"\0asm\x0d\0\x01\0".to_vec(), true),
    ];
    for (name, bytes, compiles) in cases {
        let path = write_temp(name, &bytes);
        let spec = NodeSpec {
            id: "bad".into(),
            source: NodeSource::Component { path, node_type: String::new() },
            runtime: Runtime::Wasm,
            params: Value::Null,
            policy: SandboxPolicy::default(),
        };
        let err = run_node(&spec, vec![]).unwrap_err();
        if compiles {
            assert!(matches!(err, Error::Link { .. }), "{name}: {err:?}");
            assert!(err.to_string().contains("does not implement"), "{name}: {err}");
        } else {
            assert!(matches!(err, Error::Compile { .. }), "{name}: {err:?}");
            assert!(err.to_string().contains("not a valid WebAssembly component"), "{name}: {err}");
        }
        // wasmtime's own reason is kept as the cause.
        assert!(std::error::Error::source(&err).is_some(), "{name}: no cause kept");
    }
}

/// A core wasm module (not a component).
fn wat_module() -> Vec<u8> {
    b"\0asm\x01\0\0\0".to_vec()
}
