//! The correctness corpus: the origin project's test nodes, each run on all
//! three Python runtimes (sandboxed RustPython, native RustPython, CPython),
//! which must give exactly the expected outputs, and the chain as a pipeline.

use crate::common::*;
use nodehost::manifest::HostPermissions;
use nodehost::{Runtime, Value};

struct Case {
    file: &'static str,
    class: &'static str,
    params: &'static str,
    inputs: &'static str,
    /// Every output in order, flush outputs last.
    expected: &'static str,
}

const CASES: &[Case] = &[
    Case {
        file: "pass_through.py",
        class: "PassThrough",
        params: "{}",
        inputs: r#"[1, -2.5, "text", null, true, [1, [2, {"a": 3}]], {"k": {"$bytes": "AAEC"}}]"#,
        expected: r#"[1, -2.5, "text", true, [1, [2, {"a": 3}]], {"k": {"$bytes": "AAEC"}}]"#,
    },
    Case {
        file: "transform.py",
        class: "Transform",
        params: r#"{"operation": "square"}"#,
        inputs: "[3, -4, 1.5, [1, 2, 3]]",
        expected: "[9, 16, 2.25, [1, 4, 9]]",
    },
    Case {
        file: "transform.py",
        class: "Transform",
        params: r#"{"operation": "multiply", "factor": 3}"#,
        inputs: "[2, 0.5]",
        expected: "[6, 1.5]",
    },
    Case {
        file: "counter.py",
        class: "Counter",
        params: r#"{"start": 10}"#,
        inputs: r#"[5, "x", 2.5]"#,
        expected: r#"[{"count": 11, "total": 5, "value": 5},
                      {"count": 12, "total": 5, "value": "x"},
                      {"count": 13, "total": 7.5, "value": 2.5},
                      {"final_count": 13, "final_total": 7.5}]"#,
    },
    Case {
        file: "filter.py",
        class: "Filter",
        params: r#"{"min_value": 0, "max_value": 10}"#,
        inputs: "[-1, 0, 5.5, 10, 11]",
        expected: r#"[{"value": -1, "passed": false}, {"value": 0, "passed": true},
                      {"value": 5.5, "passed": true}, {"value": 10, "passed": true},
                      {"value": 11, "passed": false}]"#,
    },
    Case {
        file: "accumulator.py",
        class: "Accumulator",
        params: r#"{"window_size": 3}"#,
        inputs: "[1, 2, 3, 4, 10]",
        expected: r#"[{"sum": 1, "average": 1.0, "count": 1}, {"sum": 3, "average": 1.5, "count": 2},
                      {"sum": 6, "average": 2.0, "count": 3}, {"sum": 9, "average": 3.0, "count": 3},
                      {"sum": 17, "average": 5.666666666666667, "count": 3}]"#,
    },
    Case {
        file: "streaming.py",
        class: "Streaming",
        params: r#"{"count": 3}"#,
        inputs: "[2, 5]",
        expected: r#"[{"index": 0, "input": 2, "value": 2}, {"index": 1, "input": 2, "value": 4},
                      {"index": 2, "input": 2, "value": 6}, {"index": 0, "input": 5, "value": 5},
                      {"index": 1, "input": 5, "value": 10}, {"index": 2, "input": 5, "value": 15}]"#,
    },
    Case {
        file: "echo.py",
        class: "Echo",
        params: r#"{"prefix": "hi"}"#,
        inputs: r#"["a", 2]"#,
        expected: r#"[{"echo": "a", "count": 1, "prefix": "hi"}, {"echo": 2, "count": 2, "prefix": "hi"}]"#,
    },
    Case {
        file: "calculator.py",
        class: "Calculator",
        params: r#"{"operation": "add", "operand": 5}"#,
        inputs: "[1, 2.5, -10]",
        expected: "[6, 7.5, -5]",
    },
    Case {
        file: "calculator.py",
        class: "Calculator",
        params: r#"{"operation": "divide", "operand": 0}"#,
        inputs: "[7]",
        expected: r#"[{"error": "division by zero", "input": 7}]"#,
    },
    Case {
        file: "calculator.py",
        class: "Calculator",
        params: r#"{"operation": "divide", "operand": 4}"#,
        inputs: "[10, 2]",
        expected: "[2.5, 0.5]",
    },
    Case {
        file: "complex_data.py",
        class: "ComplexData",
        params: r#"{"source": "test"}"#,
        inputs: r#"[{"id": 7, "values": [1, 2, 3.5], "tags": ["a", "b"]}, {"values": [1]}, "nope", {"id": 1, "values": []}]"#,
        expected: r#"[{"id": 7, "values": [1, 2, 3.5], "tags": ["a", "b"], "valid": true,
                       "metadata": {"source": "test", "sequence": 1, "keys": ["id", "tags", "values"],
                                    "stats": {"count": 3, "sum": 6.5, "mean": 2.1666666666666665, "min": 1, "max": 3.5},
                                    "tags": ["A", "B"]}},
                      {"valid": false, "error": "missing keys: id", "id": null},
                      {"valid": false, "error": "expected a dict, got str"},
                      {"valid": false, "error": "values must be a non-empty list of numbers", "id": 1}]"#,
    },
    Case {
        file: "list_processing.py",
        class: "ListProcessing",
        params: r#"{"operation": "stats"}"#,
        inputs: "[[3, 1, 2], [5]]",
        expected: r#"[{"count": 3, "sum": 6, "min": 1, "max": 3, "squares": [9, 1, 4]},
                      {"count": 1, "sum": 5, "min": 5, "max": 5, "squares": [25]}]"#,
    },
    Case {
        file: "list_processing.py",
        class: "ListProcessing",
        params: r#"{"operation": "unique"}"#,
        inputs: "[[3, 1, 3, 2, 1]]",
        expected: "[[1, 2, 3]]",
    },
    Case {
        file: "chain.py",
        class: "Format",
        params: r#"{"template": "<{}>"}"#,
        inputs: "[1, 2.5]",
        expected: r#"["<1>", "<2.5>"]"#,
    },
];

#[test]
fn every_corpus_node_gives_the_expected_outputs_on_every_python_runtime() {
    let mut failures = Vec::new();
    for case in CASES {
        let expected = jsons(case.expected);
        for runtime in PYTHON_RUNTIMES {
            let spec = python(example(&format!("corpus/{}", case.file)), case.class, json(case.params), runtime);
            let outputs = run_node(&spec, jsons(case.inputs)).map(|run| run.outputs());
            match outputs {
                Ok(outputs) if outputs == expected => {}
                Ok(outputs) => failures.push(format!(
                    "{} {} on {runtime}:\n  expected {}\n  got      {}",
                    case.file,
                    case.params,
                    Value::List(expected.clone()),
                    Value::List(outputs)
                )),
                Err(e) => failures.push(format!("{} on {runtime}: {e}", case.file)),
            }
        }
    }
    assert!(failures.is_empty(), "{} corpus failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_three_python_runtimes_agree_on_errors_too() {
    // Transform refuses an unknown operation in __init__: a creation error
    // with the Python exception, on every runtime.
    for runtime in PYTHON_RUNTIMES {
        let spec = python(example("corpus/transform.py"), "Transform", json(r#"{"operation": "cube"}"#), runtime);
        let err = run_node(&spec, vec![]).unwrap_err();
        let failure = err.node_failure().expect("a node failure");
        let guest = failure.guest().expect("the node's own error");
        assert_eq!(guest.exception_type.as_deref(), Some("ValueError"), "{runtime}: {err}");
        assert!(guest.message.contains("unknown operation 'cube'"), "{runtime}: {err}");
        assert!(guest.traceback.as_deref().unwrap_or("").contains("transform.py"), "{runtime}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_runs_as_a_pipeline_on_every_python_runtime() {
    let expected: Vec<Value> = (1..=5).map(|i| Value::Str(format!("Result: {}", i * 2 + 10))).collect();
    for runtime in PYTHON_RUNTIMES {
        let mut pipeline = nodehost::manifest::load(&example("corpus/chain.toml")).unwrap();
        pipeline.set_python_runtime(runtime);
        let inputs = (1..=5).map(Value::Int).collect();
        let outputs = nodehost::run_collect(&pipeline, engine(), inputs).await.unwrap();
        assert!(outputs.iter().all(|o| &*o.node == "format"));
        let values: Vec<Value> = outputs.into_iter().map(|o| o.value).collect();
        assert_eq!(values, expected, "on {runtime}");
    }
}

/// One pipeline whose nodes run on four runtimes at once: Python on native
/// RustPython, on CPython and in the sandbox, Rust natively and in the
/// sandbox; values cross between all of them.
const MIXED_CHAIN: &str = r#"
name = "mixed"

[[node]]
id = "double"
python = "chain.py"
class = "Double"
runtime = "native-rustpython"
trusted = true

[[node]]
id = "add"
python = "chain.py"
class = "Add"
params = { amount = 10 }
runtime = "cpython"
trusted = true

[[node]]
id = "half"
rust = "calculator"
params = { operation = "add", operand = 0.5 }
runtime = "native"
trusted = true

[[node]]
id = "format"
python = "chain.py"
class = "Format"
params = { template = "result: {}" }
runtime = "wasm"

[[node]]
id = "shout"
rust = "text"
params = { operation = "upper" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_mixed_runtime_chain_matches_too() {
    // Anchored in examples/corpus, so `chain.py` is found there; the
    // un-sandboxed nodes are marked trusted, and the host allows them.
    let permissions = HostPermissions { allow_unsandboxed: true, ..HostPermissions::default() };
    let pipeline = nodehost::manifest::parse_with(MIXED_CHAIN, &example("corpus/mixed.toml"), &permissions).unwrap();
    let inputs = (1..=5).map(Value::Int).collect();
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs).await.unwrap();
    let runtimes: Vec<(&str, Runtime)> = report.nodes.iter().map(|n| (n.id.as_str(), n.runtime)).collect();
    assert_eq!(
        runtimes,
        [
            ("double", Runtime::NativeRustpython),
            ("add", Runtime::Cpython),
            ("half", Runtime::Native),
            ("format", Runtime::Wasm),
            ("shout", Runtime::Wasm),
        ]
    );
    assert!(outputs.iter().all(|o| &*o.node == "shout"), "{outputs:?}");
    let values: Vec<Value> = outputs.into_iter().map(|o| o.value).collect();
    let expected: Vec<Value> = (1..=5).map(|i| Value::Str(format!("RESULT: {}.5", i * 2 + 10))).collect();
    assert_eq!(values, expected);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}
