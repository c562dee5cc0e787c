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

/// Outputs whose packed bytes run above 0x7f (bytes, audio samples, float
/// arrays, marshal data of floats) leave CPython in the sandbox staged,
/// through the component's stdout, and come back exactly: one call at a
/// time and in batches, several blocks in one answer. Three hundred
/// outputs of 1 MiB each run in the node's 256 MiB (a returned `list<u8>`
/// leaked its size on every call). Text the node writes to its stdout
/// itself goes to its log; mixed into staged outputs it fails that answer
/// alone, and the next answer is whole.
#[test]
fn outputs_with_high_bytes_cross_staged_and_come_back_the_same() {
    if !available() {
        return;
    }
    let source = r#"
import array
import os
from nodehost import AudioFrame


class Echo:
    def process(self, x):
        return x


class Many:
    def process(self, n):
        for k in range(3):
            yield bytes((i * 37 + n + k) % 256 for i in range(1000 + k))
        yield [i / 7 + 0.1 for i in range(100)]
        yield AudioFrame(array.array("f", [((i * 13) % 200) / 100 - 1 for i in range(960)]), 48000, 2)


class Big:
    def __init__(self):
        self.data = os.urandom(1 << 20)

    def process(self, n):
        return self.data


class Stray:
    def process(self, n):
        if n == 1:
            os.write(1, b"written by hand\n")
            return "small"
        if n == 2:
            os.write(1, b"x" * 10)
        return bytes(range(256)) * 4
"#;
    let file = std::path::PathBuf::from("staged.py");
    let spec = |class: &str| nodehost::NodeSpec::python("staged", &file, source, class, Runtime::WasmCpython);
    let bytes: Vec<u8> = (0..1u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let samples: Vec<f32> = (0..48_000).map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0).collect();
    let floats = nodehost::ArrayData::F64((0..3000).map(|i| i as f64 * 0.37).collect());
    let inputs = vec![
        Value::Bytes(bytes),
        Value::Audio(nodehost::AudioFrame { samples, sample_rate: 48_000, channels: 1 }),
        Value::Array(nodehost::NumArray { data: floats, shape: vec![3000] }),
        Value::List((0..500).map(|i| Value::Float(i as f64 / 3.0)).collect()),
        Value::Map([("raw", Value::Bytes((0..=255).collect())), ("n", Value::Int(-1))].into_iter().collect()),
    ];
    // In batches (the run), and one call at a time.
    let run = run_node(&spec("Echo"), inputs.clone()).unwrap();
    assert_eq!(run.outputs(), inputs);
    on_node_thread(|| {
        let mut node = spec("Echo").create(&engine()).unwrap();
        for input in &inputs {
            let mut out = Vec::new();
            node.process(input.clone(), &mut out).unwrap();
            assert_eq!(&out, std::slice::from_ref(input));
        }
    });

    let run = run_node(&spec("Many"), vec![Value::Int(1), Value::Int(2)]).unwrap();
    for (n, item) in [1, 2].into_iter().zip(&run.items) {
        let mut want: Vec<Value> = (0..3).map(|k| Value::Bytes((0..1000 + k).map(|i| ((i * 37 + n + k) % 256) as u8).collect())).collect();
        want.push(Value::List((0..100).map(|i| Value::Float(i as f64 / 7.0 + 0.1)).collect()));
        let frame: Vec<f32> = (0..960).map(|i| (((i * 13) % 200) as f64 / 100.0 - 1.0) as f32).collect();
        want.push(Value::Audio(nodehost::AudioFrame { samples: frame, sample_rate: 48_000, channels: 2 }));
        assert_eq!(item.as_ref().unwrap(), &want, "input {n}");
    }

    let run = run_node(&spec("Big"), (0..300).map(Value::Int).collect()).unwrap();
    for (i, item) in run.items.iter().enumerate() {
        match item.as_ref().map(|out| &out[..]) {
            Ok([Value::Bytes(b)]) => assert_eq!(b.len(), 1 << 20),
            other => panic!("item {i}: {other:?}"),
        }
    }

    let (answers, logs) = on_node_thread(|| {
        capture_logs(|| {
            let mut node = spec("Stray").create(&engine()).unwrap();
            (1..=3)
                .map(|n| {
                    let mut out = Vec::new();
                    node.process(Value::Int(n), &mut out).map(|()| out)
                })
                .collect::<Vec<_>>()
        })
    });
    assert_eq!(answers[0].as_ref().unwrap(), &[Value::from("small")]);
    assert!(logs.contains("written by hand"), "{logs}");
    match &answers[1] {
        Err(NodeFailure::InvalidValue(m)) => assert!(m.contains("wrote 1039 bytes to its stdout in this call and its outputs name 1029"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(answers[2].as_ref().unwrap(), &[Value::Bytes((0..1024).map(|i| i as u8).collect())]);
}

/// `sum()` adds as CPython 3.11 does (one rounded addition at a time), not
/// with 3.12's compensation: the same floats as on the host's CPython.
#[test]
fn sum_adds_floats_as_cpython_3_11_does() {
    if !available() {
        return;
    }
    let run = |runtime| run_node(&python(test_python("real_data.py"), "FloatSums", Value::Null, runtime), vec![Value::Null]).unwrap().outputs();
    let want = run(Runtime::Cpython);
    let Value::List(items) = &want[0] else { panic!("{want:?}") };
    assert_eq!(items[0], Value::from("0.9999999999999999"), "CPython 3.11's sum");
    assert_eq!(run(Runtime::WasmCpython), want);
    assert_eq!(run(Runtime::Wasm), want);
}

/// `pickle.dumps` and `dump` with no protocol named use CPython 3.11's
/// default (4; the 3.14 standard library in both sandboxes says 5).
#[test]
fn pickles_take_cpython_3_11s_default_protocol_in_both_sandboxes() {
    if !available() {
        return;
    }
    let run = |runtime| run_node(&python(test_python("real_data.py"), "Pickles", Value::Null, runtime), vec![Value::Null]).unwrap().outputs();
    let want = run(Runtime::Cpython);
    let Value::List(items) = &want[0] else { panic!("{want:?}") };
    assert_eq!(items[0], Value::Int(4), "CPython 3.11's default protocol");
    assert_eq!(run(Runtime::WasmCpython), want);
    assert_eq!(run(Runtime::Wasm), want);
}

/// What the 3.12+ standard library changed the form of (weekdays as
/// `calendar.Day` members, two strings refused by `difflib`, how
/// `NormalDist.samples` draws) gives CPython 3.11's results on every
/// Python runtime.
#[test]
fn stdlib_results_take_cpython_3_11s_form_on_every_python_runtime() {
    let run = |runtime| {
        let outputs = run_node(&python(test_python("real_data.py"), "Stdlib311", Value::Null, runtime), vec![Value::Null]).unwrap().outputs();
        let Value::List(items) = &outputs[0] else { panic!("{runtime}: {outputs:?}") };
        items.clone()
    };
    let want = run(Runtime::Cpython);
    assert_eq!(want[1], Value::from("(6, 31)"), "CPython 3.11's weekday is an int");
    assert_eq!(want[9], Value::List(vec![Value::from("lines to compare must be str, not bytes (b'b\\n')"), Value::from("all arguments must be str, not: 1")]));
    for runtime in [Runtime::Wasm, Runtime::NativeRustpython] {
        assert_eq!(run(runtime), want, "{runtime}");
    }
    if available() {
        assert_eq!(run(Runtime::WasmCpython), want, "wasm-cpython");
    }
}

/// Plain inputs (scalars, text, bytes) reach a CPython node in
/// `process-packed` batches, lists in `process-batch` calls, and every
/// input gets in a batch exactly what it gets in a call of its own:
/// outputs of every kind (big ints, non-ASCII text, bytes, tuples, audio,
/// arrays, a generator's several, none for None), answers large enough to
/// be staged, a refused output, and an exception that ends its batch and
/// leaves the inputs after it.
#[test]
fn plain_inputs_cross_in_packed_batches_and_answer_as_they_would_alone() {
    if !available() {
        return;
    }
    let source = r#"
import array, sys
import nodehost

class Node:
    def process(self, x):
        # How the input came in: the runtime's function that called this.
        caller = sys._getframe(1).f_code.co_name
        if isinstance(x, list):
            return [caller, len(x)]
        if x == "caller":
            return caller
        if x == "big":
            return "é" * 3000
        if x is None:
            return None
        if x is True:
            return (1, "two", [3.5, None], {"k": b"\xff\x00"})
        if isinstance(x, bytes):
            return {"len": len(x), "raw": x, "tuple": (x,)}
        if isinstance(x, float):
            return nodehost.AudioFrame(array.array("f", [x, -x]), 16000, 2)
        if isinstance(x, str):
            return x.upper() + "é☃"
        if x == 0:
            return (v for v in [1, None, 2**70, -2**64, "z"])
        if x == 1:
            return nodehost.Array(array.array("q", [1, 2, 3, 4, 5, 6]), (2, 3))
        if x == 2:
            raise ValueError("two")
        if x == 3:
            return object()
        if x == 11:
            return (i for i in range(10))
        return x * 3
"#;
    // At most four outputs an input: input 11's ten are refused.
    let policy = nodehost::SandboxPolicy { max_outputs: 4, ..nodehost::SandboxPolicy::default() };
    let spec = nodehost::NodeSpec::python("packed", "packed.py", source, "Node", Runtime::WasmCpython).with_policy(policy);
    let big = json("1180591620717411303424");
    let mut inputs = vec![Value::from("caller"), Value::Int(5), Value::from("caller")];
    inputs.extend([big, Value::Int(-7), Value::Float(1.5), Value::from("abc"), Value::Bytes(vec![0, 255])]);
    inputs.extend([Value::Bool(true), Value::Bool(false), Value::Null, Value::Int(0), Value::Int(1), Value::from("big")]);
    inputs.extend([Value::List(vec![Value::Int(1), Value::Int(2)]), Value::Int(4), Value::Int(2), Value::Int(6)]);
    inputs.extend([Value::Int(3), Value::Int(8), Value::from("big"), Value::Int(9), Value::from("caller"), Value::Int(10)]);
    inputs.extend([Value::Int(11), Value::Int(12)]);
    on_node_thread(|| {
        // Each input in a call of its own, on a node of its own.
        let mut alone = Vec::new();
        for input in &inputs {
            let mut node = spec.create(&engine()).unwrap();
            let mut out = Vec::new();
            alone.push(node.process(input.clone(), &mut out).map(|()| out));
        }
        // All of them through one node, eight times over, in batches (of
        // two: the budget is spent at once). Whether a batch forms depends on
        // the node's measured cost per input, so a loaded machine may leave
        // some inputs alone; over eight rounds some come in batches.
        const ROUNDS: usize = 8;
        let mut node = spec.create(&engine()).unwrap();
        let mut left: VecDeque<Value> = std::iter::repeat_n(inputs.iter().cloned(), ROUNDS).flatten().collect();
        let (mut out, mut answers) = (Vec::new(), Vec::new());
        while !left.is_empty() {
            node.process_many(&mut left, Duration::from_nanos(1), &mut out, &mut answers);
        }
        assert_eq!(answers.len(), ROUNDS * inputs.len());
        let alone: Vec<_> = std::iter::repeat_n(alone.iter(), ROUNDS).flatten().collect();
        let inputs: Vec<Value> = std::iter::repeat_n(inputs.iter().cloned(), ROUNDS).flatten().collect();
        let mut packed = 0;
        let mut outputs = out.into_iter();
        for (k, (answer, &alone)) in answers.iter().zip(&alone).enumerate() {
            let got: Result<Vec<Value>, &NodeFailure> = match answer.failure() {
                None => Ok(outputs.by_ref().take(answer.outputs).collect()),
                Some(f) => Err(f),
            };
            match (&got, alone) {
                (Ok(got), Ok(want)) if inputs[k] == Value::from("caller") => {
                    assert_eq!(want, &vec![Value::from("_collect")]);
                    let batched = got == &vec![Value::from("process_packed")];
                    assert!(batched || got == want, "input {k}: {got:?}");
                    packed += usize::from(batched);
                }
                (Ok(got), Ok(want)) => assert_eq!(got, want, "input {k}: {:?}", inputs[k]),
                (Err(NodeFailure::Guest(got)), Err(NodeFailure::Guest(want))) => {
                    assert_eq!((got.kind, &got.message, &got.exception_type), (want.kind, &want.message, &want.exception_type), "input {k}");
                    assert_eq!(got.traceback, want.traceback, "input {k}");
                }
                (Err(got), Err(want)) => assert_eq!(got.to_string(), want.to_string(), "input {k}"),
                other => panic!("input {k} ({:?}): {other:?}", inputs[k]),
            }
        }
        assert!(packed >= 1, "no plain input came in a packed batch");
        let alone = &alone[..26];
        assert!(matches!(alone[24], Err(NodeFailure::LimitExceeded(_))), "{:?}", alone[24]);
        assert_eq!(alone[14].as_ref().unwrap(), &vec![json(r#"["_collect", 2]"#)]);
        assert!(matches!(&alone[16], Err(NodeFailure::Guest(e)) if e.message == "ValueError: two"), "{:?}", alone[16]);
        assert!(matches!(&alone[18], Err(NodeFailure::Guest(e)) if e.message.contains("type 'object'")), "{:?}", alone[18]);
        let Ok(many) = &alone[11] else { panic!("{:?}", alone[11]) };
        assert_eq!(many, &jsons(r#"[1, 1180591620717411303424, -18446744073709551616, "z"]"#));
    });
}
