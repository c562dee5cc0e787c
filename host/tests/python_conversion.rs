//! The Python <-> value conversion on every Python runtime: each edge case
//! of the shared rules (`nodehost_sdk::python`) gives the same value, or
//! the same error with the same text, in the sandbox, on native RustPython,
//! on CPython and on CPython in the sandbox (`wasm-cpython`, whose values
//! cross as marshal data and packed buffers, checked by the host).

use crate::common::*;
use nodehost::{ArrayData, AudioFrame, BigInt, GuestErrorKind, Map, NodeFailure, NumArray, Runtime, SandboxPolicy, Value};

/// What a case should give.
enum Expect {
    /// These outputs.
    Out(Vec<Value>),
    /// Refused: the reason after "returned a value the pipeline cannot carry: ".
    Refused(String),
    /// A Python exception of this type with this message.
    Raised(&'static str, &'static str),
    /// Stopped at the policy's `max_outputs`, which it names.
    TooMany(usize),
}

use Expect::{Out, Raised, TooMany};

const ARRAY_HINT: &str = "(numeric data is i64 or floats; a plain list carries any int)";

const SUPPORTED: &str = "supported: None, bool, int, float, str, bytes, list, tuple, dict with str keys, AudioFrame, Array";

fn refused(why: impl Into<String>) -> Expect {
    Expect::Refused(why.into())
}

fn one(v: impl Into<Value>) -> Expect {
    Out(vec![v.into()])
}

fn array(data: ArrayData, shape: &[u32]) -> Expect {
    one(NumArray { data, shape: shape.to_vec() })
}

fn ints(v: &[i64]) -> Expect {
    array(ArrayData::I64(v.to_vec()), &[v.len() as u32])
}

fn audio(samples: &[f32], sample_rate: u32, channels: u16) -> Expect {
    one(AudioFrame { samples: samples.to_vec(), sample_rate, channels })
}

fn nested(levels: usize) -> Value {
    (0..levels).fold(Value::Int(1), |v, _| Value::List(vec![v]))
}

fn cases() -> Vec<(&'static str, Expect)> {
    let map = |entries: &[(&str, Value)]| one(entries.iter().cloned().collect::<Map>());
    vec![
        ("array-b", ints(&[-128, 127])),
        ("array-B", ints(&[0, 255])),
        ("array-h", ints(&[-32768, 32767])),
        ("array-H", ints(&[65535])),
        ("array-i", ints(&[-2147483648, 2147483647])),
        ("array-I", ints(&[4294967295])),
        // 8 bytes on 64-bit Linux, 4 on wasm32: the same values either way.
        ("array-l", ints(&[-2147483648, 2147483647, -1])),
        ("array-L", ints(&[4294967295])),
        ("array-q", ints(&[i64::MIN, i64::MAX])),
        ("array-Q", ints(&[i64::MAX])),
        ("array-Q-too-big", refused(format!("array element: int of 64 bits does not fit in a signed 64-bit int {ARRAY_HINT}"))),
        ("array-f", array(ArrayData::F32(vec![0.5, -2.0]), &[2, 1])),
        ("array-d", array(ArrayData::F64(vec![1e300]), &[1])),
        ("array-u", refused("array of typecode 'u' (use 'f', 'd', 'q' or another integer typecode)")),
        (
            "array-dtype",
            one(["f32", "f64"].into_iter().chain(["i64"; 10]).map(Value::from).collect::<Vec<_>>()),
        ),
        ("list-ints", ints(&[1, 2, 3])),
        ("list-mixed", array(ArrayData::F64(vec![1.0, 2.5]), &[2])),
        ("list-bools", array(ArrayData::F64(vec![1.0, 2.0]), &[2])),
        ("list-empty", array(ArrayData::F64(vec![]), &[0])),
        ("list-wide-int", refused(format!("array element: int of 71 bits does not fit in a signed 64-bit int {ARRAY_HINT}"))),
        ("list-str", refused("array element of type 'str' is not a number")),
        ("data-str", refused("numbers must be an array.array, list or tuple, not 'str'")),
        ("shape-wrong", refused("array of 3 elements does not have shape [2, 2]")),
        ("shape-float", refused("Array.shape item must be an int in 0..2**32, not 'float'")),
        ("shape-negative", refused("Array.shape item must be in 0..2**32, not -1")),
        ("shape-not-a-tuple", refused("Array.shape must be a tuple of ints, not 'int'")),
        ("audio-l", audio(&[1.0, -2.0], 8000, 2)),
        ("audio-d", audio(&[0.5], 16000, 1)),
        ("audio-channels-0", refused("audio frame with 0 channels")),
        ("audio-channels-bool", refused("AudioFrame.channels must be an int in 0..2**16, not 'bool'")),
        ("audio-channels-big", refused("AudioFrame.channels must be in 0..2**16, not 70000")),
        ("audio-rate-negative", refused("AudioFrame.sample_rate must be in 0..2**32, not -1")),
        ("audio-rate-float", refused("AudioFrame.sample_rate must be an int in 0..2**32, not 'float'")),
        ("audio-odd-samples", refused("audio frame of 3 samples does not divide into 2 channels")),
        ("audio-raises", Raised("ValueError", "ValueError: no samples here")),
        ("bool", one(vec![Value::Bool(true), Value::Bool(false)])),
        ("int-enum", one(3)),
        ("float-subclass", one(1.5)),
        ("str-subclass", one("n")),
        ("int-min", one(i64::MIN)),
        // Ints beyond 64 bits cross exactly, by value, as `BigInt`.
        ("int-2**63", one(1u64 << 63)),
        ("int-negative-wide", one(-(BigInt::from(1) << 100u32))),
        ("int-enum-wide", one(BigInt::from(1) << 70u32)),
        ("int-u64-max", one(u64::MAX)),
        ("int-i64-min-minus-1", one(i128::from(i64::MIN) - 1)),
        ("list-big-ints", one(vec![Value::Int(1), Value::from(1u128 << 64), Value::from(-(1i128 << 70))])),
        ("dict-big-int", map(&[("n", Value::from(10u128.pow(30)))])),
        ("str-surrogate", refused("str with lone surrogates is not valid UTF-8")),
        ("tuple", one(vec![Value::Int(1), Value::List(vec![Value::Int(2), "x".into()])])),
        ("namedtuple", one(vec![Value::Int(1), Value::Int(2)])),
        ("bytearray", one(b"xy".to_vec())),
        ("ordered-dict", map(&[("b", 1.into()), ("a", 2.into())])),
        ("default-dict", map(&[("k", Value::List(vec![1.into()]))])),
        ("key-int", refused("dict key of type 'int' (keys must be str)")),
        ("key-surrogate", refused("dict key with lone surrogates is not valid UTF-8")),
        ("deep-ok", one(nested(127))),
        ("deep-too", refused("value nested deeper than 128 levels (a list or dict that contains itself?)")),
        ("set", refused(format!("type 'set' ({SUPPORTED})"))),
        ("iterator", refused(format!("type 'list_iterator' ({SUPPORTED})"))),
        ("frozenset-in-dict", refused(format!("type 'frozenset' ({SUPPORTED})"))),
    ]
}

/// A call's outcome as one comparable line: the outputs, or the error's
/// kind, exception type and message.
fn outcome(result: &Result<Vec<Value>, NodeFailure>) -> String {
    match result {
        Ok(values) => format!("ok {values:?}"),
        Err(NodeFailure::Guest(e)) => {
            format!("{} ({}): {}", e.kind, e.exception_type.as_deref().unwrap_or("no exception"), e.message)
        }
        Err(NodeFailure::LimitExceeded(limit)) => format!("limit: {limit}"),
        Err(other) => format!("other failure: {other}"),
    }
}

fn expected(class: &str, method: &str, expect: &Expect) -> String {
    match expect {
        Out(values) => outcome(&Ok(values.clone())),
        Expect::Refused(why) => format!(
            "{} (no exception): {class}.{method}() returned a value the pipeline cannot carry: {why}",
            GuestErrorKind::UnsupportedValue
        ),
        Raised(exception, message) => format!("{} ({exception}): {message}", GuestErrorKind::Raised),
        TooMany(max) => format!("limit: limit exceeded: {class}.{method}() yielded more than {max} outputs for one input"),
    }
}

/// Every Python runtime this machine has.
fn runtimes() -> Vec<Runtime> {
    let mut all = PYTHON_RUNTIMES.to_vec();
    match Runtime::WasmCpython.unavailable_reason() {
        None => all.push(Runtime::WasmCpython),
        Some(why) => eprintln!("wasm-cpython left out: {why}"),
    }
    all
}

#[test]
fn every_runtime_converts_the_edge_cases_alike() {
    let cases = cases();
    let inputs: Vec<Value> = cases.iter().map(|(name, _)| Value::from(*name)).collect();
    let mut mismatches = Vec::new();
    for runtime in runtimes() {
        let spec = python(test_python("conversion.py"), "Edges", Value::Null, runtime);
        let run = run_node(&spec, inputs.clone()).unwrap_or_else(|e| panic!("{runtime}: {e}"));
        for ((name, expect), got) in cases.iter().zip(&run.items) {
            let (got, want) = (outcome(got), expected("Edges", "process", expect));
            if got != want {
                mismatches.push(format!("{name} on {runtime}:\n   got {got}\n  want {want}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn generators_skip_none_and_are_closed_when_stopped_early() {
    let policy = SandboxPolicy { max_outputs: 5, ..SandboxPolicy::default() };
    let cases = [
        ("plain", Out(vec![1.into(), 3.into()])),
        ("refused", refused(format!("type 'set' ({SUPPORTED})"))),
        // The generator ran its `finally` when done, and when refused.
        ("closed", one(2)),
        ("endless", TooMany(5)),
        ("closed", one(3)),
    ];
    let flushed = expected("Generators", "flush", &refused(format!("type 'set' ({SUPPORTED})")));
    let inputs: Vec<Value> = cases.iter().map(|(name, _)| Value::from(*name)).collect();
    for runtime in runtimes() {
        let spec = python(test_python("conversion.py"), "Generators", Value::Null, runtime).with_policy(policy.clone());
        let run = run_node(&spec, inputs.clone()).unwrap_or_else(|e| panic!("{runtime}: {e}"));
        for ((name, expect), got) in cases.iter().zip(&run.items) {
            assert_eq!(outcome(got), expected("Generators", "process", expect), "{name} on {runtime}");
        }
        assert_eq!(outcome(&run.flushed), flushed, "flush on {runtime}");
    }
}
