//! Python nodes at the boundary, on every Python runtime: the standard
//! library, exceptions with tracebacks, values the boundary cannot carry,
//! logging, audio frames and arrays; and what the sandbox refuses.

use std::path::PathBuf;

use crate::common::*;
use nodehost::{BigInt, GuestErrorKind, NodeFailure, Runtime, Value};

const STDLIB: &[&str] = &[
    "json", "re", "math", "cmath", "statistics", "collections", "dataclasses", "itertools", "functools",
    "operator", "typing", "enum", "abc", "struct", "array", "random", "datetime", "time", "string",
    "textwrap", "heapq", "bisect", "copy", "decimal", "fractions", "base64", "hashlib",
];

#[test]
fn the_standard_library_works_inside_the_sandbox_and_out() {
    let names: Vec<Value> = STDLIB.iter().map(|&s| Value::from(s)).collect();
    let mut failures = Vec::new();
    for runtime in PYTHON_RUNTIMES {
        let spec = python(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat/stdlib_checks.py"), "StdlibCheck", Value::Null, runtime)
            .with_policy(nodehost::tools::compat::checks_policy());
        let outputs = run_node(&spec, names.clone()).unwrap().outputs();
        for (module, result) in STDLIB.iter().zip(&outputs) {
            // Behaviour, not only import: the same output as CPython's.
            if let Err(e) = nodehost::tools::compat::judge(module, result.as_str().unwrap_or_default()) {
                failures.push(format!("{module} on {runtime}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "standard-library checks failed:\n{}", failures.join("\n"));
}

#[test]
fn an_exception_gives_the_traceback_and_the_node_lives_on() {
    for runtime in PYTHON_RUNTIMES {
        let spec = python(test_python("probes.py"), "Raiser", Value::Null, runtime);
        let run = run_node(&spec, vec!["boom".into(), 7.into()]).unwrap();
        let Err(NodeFailure::Guest(e)) = &run.items[0] else { panic!("{runtime}: {:?}", run.items[0]) };
        assert_eq!(e.kind, GuestErrorKind::Raised);
        assert_eq!(e.exception_type.as_deref(), Some("ValueError"));
        assert_eq!(e.message, "ValueError: cannot process 'boom'");
        let tb = e.traceback.as_deref().unwrap();
        assert!(tb.starts_with("Traceback (most recent call last):"), "{runtime}: {tb}");
        for needle in ["probes.py", "line 21, in explode", "in process", "ValueError: cannot process 'boom'"] {
            assert!(tb.contains(needle), "{runtime}: no {needle:?} in\n{tb}");
        }
        assert_eq!(run.items[1].as_ref().unwrap(), &vec![Value::Int(7)], "{runtime}: node unusable after raising");
    }
}

#[test]
fn a_50_mb_exception_message_still_reports_its_type_and_is_cut() {
    for runtime in PYTHON_RUNTIMES {
        // Building the message is the node's own slow work: give it time.
        let policy = nodehost::SandboxPolicy { timeout: std::time::Duration::from_secs(20), ..Default::default() };
        let spec = python(test_python("probes.py"), "HugeRaiser", Value::Null, runtime).with_policy(policy);
        let run = run_node(&spec, vec!["huge".into(), 7.into()]).unwrap();
        let Err(NodeFailure::Guest(e)) = &run.items[0] else { panic!("{runtime}: {:?}", run.items[0]) };
        assert_eq!(e.exception_type.as_deref(), Some("ValueError"), "{runtime}");
        assert!(e.message.starts_with("ValueError: vvvv"), "{runtime}: {}", &e.message[..40]);
        assert!(e.message.len() < 70_000 && e.message.contains("[... cut:"), "{runtime}: {} bytes", e.message.len());
        assert!(e.traceback.as_deref().unwrap().len() < 140_000, "{runtime}: traceback not bounded");
        assert_eq!(run.items[1].as_ref().unwrap(), &vec![Value::Int(7)], "{runtime}: node unusable after raising");
    }
}

#[test]
fn values_the_boundary_cannot_carry_give_clear_errors() {
    let cases = [
        ("set", "type 'set'"),
        ("object", "type 'object'"),
        ("lambda", "type 'function'"),
        ("tuple-key", "dict key of type 'tuple'"),
        ("self-list", "nested deeper than 128 levels"),
    ];
    for runtime in PYTHON_RUNTIMES {
        let spec = python(test_python("probes.py"), "Returns", Value::Null, runtime);
        let mut inputs: Vec<Value> = cases.iter().map(|(k, _)| Value::from(*k)).collect();
        inputs.push("nested-ok".into());
        let run = run_node(&spec, inputs).unwrap();
        for ((kind, needle), item) in cases.iter().zip(&run.items) {
            let Err(NodeFailure::Guest(e)) = item else { panic!("{runtime} {kind}: {item:?}") };
            assert_eq!(e.kind, GuestErrorKind::UnsupportedValue, "{runtime} {kind}: {e:?}");
            assert!(e.message.contains("Returns.process()"), "{runtime} {kind}: {}", e.message);
            assert!(e.message.contains(needle), "{runtime} {kind}: {}", e.message);
        }
        // Tuples become lists, bytearrays bytes; and the node still works.
        assert_eq!(
            run.items.last().unwrap().as_ref().unwrap(),
            &vec![json(r#"{"a": [1, 2], "b": {"$bytes": "eHk="}}"#)],
            "{runtime}"
        );
    }
}

#[test]
fn logging_and_print_reach_the_host_tagged_with_the_node() {
    for runtime in PYTHON_RUNTIMES {
        let spec = python(test_python("probes.py"), "Logs", Value::Null, runtime);
        let engine = engine();
        let (outputs, logs) = nodehost::on_node_thread(|| {
            capture_logs(|| {
                let mut node = spec.create(&engine).unwrap();
                let mut out = Vec::new();
                node.process("hello".into(), &mut out).unwrap();
                node.flush(&mut out).unwrap();
                out
            })
        });
        assert_eq!(outputs, vec![Value::from("hello")]);
        for needle in [
            "INFO nodehost::node: info from python: hello node=\"probes\" from=\"probe\"",
            "WARN nodehost::node: warning from python node=\"probes\" from=\"probe\"",
            "INFO nodehost::node: printed hello node=\"probes\" from=\"stdout\"",
        ] {
            assert!(logs.contains(needle), "{runtime}: no {needle:?} in logs:\n{logs}");
        }
        assert!(!logs.contains("debug is below"), "{runtime}: debug records pass the default level:\n{logs}");
    }
}

#[test]
fn audio_frames_and_arrays_cross_as_typed_buffers() {
    let inputs = vec![
        json(r#"{"$audio": {"sample_rate": 16000, "channels": 2, "samples": [0.5, -1.0, 0.25, 0.0]}}"#),
        json(r#"{"$array": {"dtype": "f64", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6.5]}}"#),
        json(r#"{"$array": {"dtype": "i64", "shape": [3], "data": [1, -2, 9007199254740993]}}"#),
        "make-audio".into(),
        "make-array".into(),
    ];
    let expected = vec![
        json(r#"{"$audio": {"sample_rate": 16000, "channels": 2, "samples": [0.25, -0.5, 0.125, 0.0]}}"#),
        json(r#"{"$array": {"dtype": "f64", "shape": [3, 2], "data": [2, 4, 6, 8, 10, 13]}}"#),
        json(r#"{"$array": {"dtype": "i64", "shape": [3], "data": [2, -4, 18014398509481986]}}"#),
        json(r#"{"$audio": {"sample_rate": 8000, "channels": 2, "samples": [0.25, -0.5]}}"#),
        json(r#"{"$array": {"dtype": "i64", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}}"#),
    ];
    for runtime in PYTHON_RUNTIMES {
        let spec = python(test_python("probes.py"), "Media", Value::Null, runtime);
        assert_eq!(run_node(&spec, inputs.clone()).unwrap().outputs(), expected, "{runtime}");
    }
}

#[test]
fn every_value_type_round_trips_through_python() {
    let values = jsons(
        r#"[0, -9223372036854775808, 9223372036854775807, 1.5e300, -0.0, "", "héllo ✓ 𝄞",
            {"$bytes": ""}, {"$bytes": "AP8="}, [], {}, [[[[1]]]], {"a": {"b": [true, false, null]}},
            {"$float": "inf"}, {"$float": "-inf"}]"#,
    );
    // None is "no output", so null only appears nested.
    for runtime in PYTHON_RUNTIMES {
        let spec = python(example("corpus/pass_through.py"), "PassThrough", Value::Null, runtime);
        assert_eq!(run_node(&spec, values.clone()).unwrap().outputs(), values, "{runtime}");
    }
}

#[test]
fn the_sandbox_grants_no_files_and_no_environment() {
    // By default (no /tmp) nothing at all; with `tmp`, writing to /tmp
    // writes to the node's own /tmp, never the host's.
    assert_eq!(nodehost::SandboxPolicy::default().tmp, 0, "the default policy grants a /tmp");
    for (tmp, write) in [(0, "refused: "), (16 << 20, "wrote a file")] {
        let policy = nodehost::SandboxPolicy { tmp, ..Default::default() };
        let spec = python(test_python("probes.py"), "SandboxProbe", Value::Null, Runtime::Wasm).with_policy(policy);
        let outputs = run_node(&spec, vec!["open".into(), "listdir".into(), "environ".into(), "write".into()])
            .unwrap()
            .outputs();
        let texts: Vec<&str> = outputs.iter().map(|v| v.as_str().unwrap()).collect();
        assert!(texts[0].starts_with("refused: "), "{texts:?}");
        assert!(texts[1].starts_with("refused: "), "{texts:?}");
        assert_eq!(texts[2], "environ: 0 variables");
        assert!(texts[3].starts_with(write), "tmp = {tmp}: {texts:?}");
        assert!(!std::path::Path::new("/tmp/nodehost-probe.txt").exists());
    }
}

#[test]
fn a_module_with_several_classes_needs_a_class_name() {
    let spec = python(example("corpus/chain.py"), "", Value::Null, Runtime::Wasm);
    let err = run_node(&spec, vec![]).unwrap_err();
    let guest = err.node_failure().and_then(|f| f.guest()).expect("a guest error");
    assert_eq!(guest.kind, GuestErrorKind::UnknownType);
    assert!(guest.message.contains("defines 3 node classes (Double, Add, Format)"), "{}", guest.message);
    // One class: no name needed.
    let spec = python(example("corpus/counter.py"), "", Value::Null, Runtime::Wasm);
    assert_eq!(run_node(&spec, vec![1.into()]).unwrap().outputs().len(), 2);
}

/// Lists of numbers (which cross the sandbox boundary packed) come back
/// exactly as they went in, on every runtime, alone or inside other values.
#[test]
fn lists_of_numbers_pass_through_unchanged() {
    let inputs = vec![
        json("[1, 2, 3]"),
        json("[-9223372036854775808, 9223372036854775807, 0]"),
        json("[1.5, -0.0, 1e300]"),
        json("[1, 2.5]"),
        json("[true, 1]"),
        json(r#"{"xs": [1, 2, 3], "ys": [[0.5, 1.5], [2, 3]], "one": [7]}"#),
        Value::List((0..10_000).map(Value::Int).collect()),
    ];
    for runtime in PYTHON_RUNTIMES {
        let spec = python(example("corpus/pass_through.py"), "PassThrough", Value::Null, runtime);
        let outputs = run_node(&spec, inputs.clone()).unwrap().outputs();
        assert_eq!(outputs, inputs, "{runtime}");
    }
}

/// The big ints the `BigInts` probe makes: 30!, 2**64-1, -(2**100),
/// 10**400 and 7**30000 (25,354 digits: more than CPython converts to or
/// from decimal text, so it only crosses as bytes).
fn made_big_ints() -> Vec<Value> {
    let factorial: BigInt = (1..=30u32).map(BigInt::from).product();
    vec![
        Value::from(factorial),
        Value::from(u64::MAX),
        Value::from(-(BigInt::from(1) << 100u32)),
        Value::from(BigInt::from(10).pow(400)),
        Value::from(BigInt::from(7).pow(30_000)),
    ]
}

/// Ints beyond 64 bits cross exactly, both ways, on every runtime: made in
/// Python (alone, in a list with an int that fits, in a dict), echoed
/// unchanged, and seen by Python as real ints with the right value.
#[test]
fn big_ints_cross_exactly_both_ways() {
    let made = made_big_ints();
    assert!(made.iter().all(|v| matches!(v, Value::BigInt(_))), "all beyond i64");
    let mut expected = made.clone();
    expected.push(Value::List(made.clone()));
    expected.push(json(r#"{"factorial": 265252859812191058636308480000000, "small": 5}"#));
    let mut echoed = made.clone();
    echoed.push(Value::List(vec![Value::Int(1), Value::from(1u128 << 64), Value::Int(-3)]));
    echoed.push(Value::List(vec![Value::from(u64::MAX), Value::from(u64::MAX - 1)]));
    echoed.push(json(r#"{"a": [-18446744073709551616, {"b": 340282366920938463463374607431768211455}]}"#));
    for runtime in PYTHON_RUNTIMES {
        let spec = python(test_python("probes.py"), "BigInts", Value::Null, runtime);
        assert_eq!(run_node(&spec, vec!["make".into()]).unwrap().outputs(), expected, "{runtime}: made in Python");

        let spec = python(example("corpus/pass_through.py"), "PassThrough", Value::Null, runtime);
        assert_eq!(run_node(&spec, echoed.clone()).unwrap().outputs(), echoed, "{runtime}: echoed");

        // What Python sees is an exact int: its hex and its successor.
        let spec = python(test_python("probes.py"), "BigInts", Value::Null, runtime);
        let seen = run_node(&spec, made.clone()).unwrap().outputs();
        for (sent, got) in made.iter().zip(&seen) {
            let n = sent.to_bigint().unwrap();
            assert_eq!(got.get("type"), Some(&Value::from("int")), "{runtime}");
            assert_eq!(got.get("hex").and_then(Value::as_str), Some(format!("{n:#x}").as_str()), "{runtime}");
            assert_eq!(got.get("next"), Some(&Value::from(n + 1)), "{runtime}");
        }
    }
}
