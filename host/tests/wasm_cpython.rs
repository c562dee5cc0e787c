//! The `wasm-cpython` runtime as the build leaves it: CPython in a component
//! made by componentize-py, built with nodehost (no setting needed). Where
//! it could not be built the tests say why and pass, unless
//! `NODEHOST_REQUIRE_WASM_CPYTHON=1` asks for it.

use std::collections::VecDeque;
use std::time::Duration;

use crate::common::*;
use nodehost::{GuestErrorKind, NodeFailure, Runtime, Value, on_node_thread};

/// Whether the runtime is there; when it is not, why (and fail if it must be).
fn available() -> bool {
    match Runtime::WasmCpython.unavailable_reason() {
        None => true,
        Some(why) if std::env::var_os("NODEHOST_REQUIRE_WASM_CPYTHON").is_some_and(|v| v == "1") => {
            panic!("wasm-cpython is required here but unavailable: {why}")
        }
        Some(why) => {
            eprintln!("skipped: wasm-cpython is unavailable: {why}");
            false
        }
    }
}

/// A corpus node runs on it with no setting, one call at a time and in
/// batches alike, and its exception comes back with the traceback.
#[test]
fn a_corpus_node_runs_on_the_cpython_built_with_nodehost() {
    if !available() {
        return;
    }
    let spec = python(
        example("corpus/calculator.py"),
        "Calculator",
        json(r#"{"operation": "multiply", "operand": 3}"#),
        Runtime::WasmCpython,
    );
    let run = run_node(&spec, jsons("[1, 2.5, -4]")).unwrap();
    assert_eq!(run.outputs(), jsons("[3, 7.5, -12]"));
    let spec = spec.with_params(json(r#"{"operation": "divide", "operand": 2}"#));
    on_node_thread(|| {
        let mut node = spec.create(&engine()).unwrap();
        let mut inputs: VecDeque<Value> = jsons(r#"[2, 5, "three", 4]"#).into();
        let (mut out, mut answers) = (Vec::new(), Vec::new());
        node.process_many(&mut inputs, Duration::from_secs(60), &mut out, &mut answers);
        assert_eq!(out, jsons("[1.0, 2.5]"));
        assert_eq!(answers.len(), 3);
        match answers[2].failure() {
            Some(NodeFailure::Guest(e)) => {
                assert_eq!(e.kind, GuestErrorKind::Raised);
                assert_eq!(e.exception_type.as_deref(), Some("TypeError"), "{e:?}");
                assert!(e.traceback.as_deref().is_some_and(|t| t.contains("calculator.py")), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Vec::from(inputs), jsons("[4]"), "the input after the failure is left");
    });
}

/// Dropping a node runs its `cleanup()` (the host closes it first:
/// componentize-py runs no destructor of its own), and a `cleanup()` that
/// loops is stopped at the deadline.
#[test]
fn cleanup_runs_when_the_node_is_dropped() {
    if !available() {
        return;
    }
    let source = "import logging\n\nclass Node:\n    def process(self, x):\n        return x\n\n    def cleanup(self):\n        logging.getLogger('tidy').warning('cleaned up')\n";
    let file = std::path::PathBuf::from("tidy.py");
    let spec = nodehost::NodeSpec::python("tidy", &file, source, "Node", Runtime::WasmCpython);
    let (_, logs) = on_node_thread(|| {
        capture_logs(|| {
            let mut node = spec.create(&engine()).unwrap();
            node.process(1.into(), &mut Vec::new()).unwrap();
            drop(node);
        })
    });
    assert!(logs.contains("cleaned up"), "{logs}");

    let policy = nodehost::SandboxPolicy { timeout: Duration::from_millis(300), ..Default::default() };
    let stuck = "class Node:\n    def process(self, x):\n        return x\n\n    def cleanup(self):\n        while True:\n            pass\n";
    let spec = nodehost::NodeSpec::python("stuck", &file, stuck, "Node", Runtime::WasmCpython).with_policy(policy);
    let (took, logs) = on_node_thread(|| {
        capture_logs(|| {
            let node = spec.create(&engine()).unwrap();
            let started = std::time::Instant::now();
            drop(node);
            started.elapsed()
        })
    });
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "dropping took {took:?}");
    assert!(logs.contains("closing the node failed"), "{logs}");
}

/// Values cross to and from CPython in the sandbox in the forms it asks for
/// (a list or map as marshal data, audio and arrays packed) and come back
/// exactly; a list marshal cannot write (an audio frame inside) goes as a
/// table; objects Python shares cross as copies; parameters arrive too.
#[test]
fn values_cross_in_the_fast_forms_and_come_back_the_same() {
    if !available() {
        return;
    }
    let source = r#"
import array
from nodehost import Array, AudioFrame


class Echo:
    def __init__(self, tag=None):
        self.tag = tag

    def process(self, x):
        if isinstance(x, str) and x == "tag":
            return self.tag
        return x


class Shared:
    def process(self, n):
        part = [n, "two", {"three": 3.5}]
        frame = AudioFrame(array.array("f", [0.5, -0.5]), 8000, 1)
        return {"twice": [part, part], "big": [2 ** 64, -(2 ** 70)], "framed": [frame], "grid": Array([1, 2, 3, 4], (2, 2))}
"#;
    let file = std::path::PathBuf::from("forms.py");
    let big = |v: i128| Value::from(v);
    let audio = |n: usize| Value::Audio(nodehost::AudioFrame { samples: (0..n).map(|i| i as f32 * 0.25 - 3.0).collect(), sample_rate: 48_000, channels: 2 });
    let ints = Value::List((0..100).map(Value::Int).collect());
    let nested = json(r#"{"id": 7, "name": "sensor-ü", "tags": ["a", "b"], "reading": {"value": 21.5, "unit": "C"}, "raw": null, "ok": true}"#);
    let inputs = vec![
        ints.clone(),
        nested.clone(),
        Value::List(vec![big(1 << 64), big(-(1 << 70)), Value::Int(i64::MIN), Value::Bytes(vec![0, 255])]),
        audio(48_000),
        Value::List(vec![audio(4), Value::from("beside")]),
        Value::Array(nodehost::NumArray { data: nodehost::ArrayData::F32(vec![1.5, -2.0]), shape: vec![2] }),
        Value::Array(nodehost::NumArray { data: nodehost::ArrayData::I64(vec![i64::MIN, 0, i64::MAX]), shape: vec![3, 1] }),
        Value::Map(Default::default()),
        Value::List(vec![]),
        "tag".into(),
    ];
    let params = json(r#"{"tag": {"deep": [[1, 2], [3, 4.5]], "s": "x"}}"#);
    let spec = nodehost::NodeSpec::python("echo", &file, source, "Echo", Runtime::WasmCpython).with_params(params);
    let run = run_node(&spec, inputs.clone()).unwrap();
    let mut want: Vec<Vec<Value>> = inputs[..inputs.len() - 1].iter().map(|v| vec![v.clone()]).collect();
    want.push(vec![json(r#"{"deep": [[1, 2], [3, 4.5]], "s": "x"}"#)]);
    for (i, (got, want)) in run.items.iter().zip(&want).enumerate() {
        assert_eq!(got.as_ref().unwrap(), want, "input {i}");
    }

    let spec = nodehost::NodeSpec::python("shared", &file, source, "Shared", Runtime::WasmCpython);
    let run = run_node(&spec, vec![Value::Int(1)]).unwrap();
    let part = json(r#"[1, "two", {"three": 3.5}]"#);
    let frame = Value::Audio(nodehost::AudioFrame { samples: vec![0.5, -0.5], sample_rate: 8000, channels: 1 });
    let grid = Value::Array(nodehost::NumArray { data: nodehost::ArrayData::I64(vec![1, 2, 3, 4]), shape: vec![2, 2] });
    let want = Value::Map(
        [
            ("twice", Value::List(vec![part.clone(), part])),
            ("big", Value::List(vec![big(1 << 64), big(-(1 << 70))])),
            ("framed", Value::List(vec![frame])),
            ("grid", grid),
        ]
        .into_iter()
        .collect(),
    );
    assert_eq!(run.items[0].as_ref().unwrap(), &vec![want]);
}

/// `nodehost bake --runtime wasm-cpython`: CPython's component with the
/// node's module already loaded runs the node as its source does (state
/// kept between items), and says where a failure came from.
#[test]
fn a_node_baked_onto_cpython_runs_like_its_source() {
    if !available() {
        return;
    }
    let scratch = scratch_dir("bake-cpython");
    let dir = scratch.path();
    let baked = dir.join("counter.wasm");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .args(["bake", "--runtime", "wasm-cpython"])
        .arg(example("corpus/counter.py"))
        .arg("-o")
        .arg(&baked)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = |node: String, name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("[input]\nvalues = [\"a\", \"b\", \"a\"]\n\n[[node]]\nid = \"count\"\n{node}\n")).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let from_bake = run("component = \"counter.wasm\"\ntype = \"Counter\"".into(), "baked.toml");
    let source = example("corpus/counter.py").display().to_string();
    let from_source = run(format!("python = {source:?}\nclass = \"Counter\"\nruntime = \"wasm-cpython\""), "source.toml");
    assert_eq!(from_bake, from_source);
    // Three items and the flush, the count kept across them.
    assert_eq!(from_bake.lines().count(), 4, "{from_bake}");
    assert!(from_bake.lines().last().unwrap().contains("\"final_count\":3"), "{from_bake}");

    // Only a sandbox's interpreter can be baked.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .args(["bake", "--runtime", "cpython"])
        .arg(example("corpus/counter.py"))
        .arg("-o")
        .arg(dir.join("no.wasm"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("use wasm (RustPython) or wasm-cpython"), "{refused:?}");
}
