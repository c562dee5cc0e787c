//! Values sent through a pass-through node in the sandbox, Python and Rust,
//! come back equal, or fail at the boundary with a clear error; nothing else
//! (no trap, no panic, no other error) is acceptable.

use std::cell::RefCell;
use std::sync::Arc;

use arbitrary::{Result, Unstructured};
use nodehost::{
    ArrayData, AudioFrame, BigInt, EngineConfig, GuestErrorKind, Map, Node, NodeFailure, NodeSpec, NumArray, Runtime,
    Value, WasmEngine,
};

/// The pass-through nodes: Python, then Rust.
type PassThroughs = (Box<dyn Node>, Box<dyn Node>);

thread_local! {
    static NODES: RefCell<Option<PassThroughs>> = const { RefCell::new(None) };
}

fn nodes() -> PassThroughs {
    // libFuzzer calls from its main thread: keep the wasm stack well inside it.
    let engine: Arc<WasmEngine> =
        WasmEngine::new(EngineConfig { max_wasm_stack: 1 << 20, ..EngineConfig::default() }).expect("engine");
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/corpus/pass_through.py");
    let source = std::fs::read_to_string(file).expect("pass_through.py");
    let python = NodeSpec::python("py", file, &source, "PassThrough", Runtime::Wasm).create(&engine).expect("python node");
    let rust = NodeSpec::builtin("rs", "pass-through", Runtime::Wasm).create(&engine).expect("rust node");
    (python, rust)
}

fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let leaf = depth > 140 || u.is_empty();
    Ok(match u.int_in_range(0..=if leaf { 9 } else { 12 })? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Int(u.arbitrary()?),
        3 => Value::Float(u.arbitrary()?),
        4 => Value::Str(u.arbitrary()?),
        5 => Value::Bytes(u.arbitrary()?),
        6 => Value::Audio(AudioFrame {
            samples: u.arbitrary()?,
            sample_rate: u.arbitrary()?,
            channels: u.int_in_range(0..=3)?,
        }),
        7 => {
            let data = match u.int_in_range(0..=2)? {
                0 => ArrayData::F32(u.arbitrary()?),
                1 => ArrayData::F64(u.arbitrary()?),
                _ => ArrayData::I64(u.arbitrary()?),
            };
            let shape = if u.arbitrary()? { vec![data.len() as u32] } else { u.arbitrary()? };
            Value::Array(NumArray { data, shape })
        }
        8 => big_int(u)?,
        // Near the edges of i64 and u64, where the encoding switches.
        9 => {
            let edge =
                [i128::from(i64::MIN), i128::from(i64::MAX), i128::from(u64::MAX)][u.int_in_range(0..=2usize)?];
            Value::from(edge + i128::from(u.int_in_range(-2i8..=2)?))
        }
        10 => {
            let n = u.int_in_range(0..=4)?;
            Value::List((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        // A list of ints, some of them big: not packed, unlike one of i64s.
        11 => {
            let n = u.int_in_range(0..=6)?;
            Value::List(
                (0..n)
                    .map(|_| if u.arbitrary()? { Ok(Value::Int(u.arbitrary()?)) } else { big_int(u) })
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..n {
                map.insert(u.arbitrary::<String>()?, value(u, depth + 1)?);
            }
            Value::Map(map)
        }
    })
}

/// An int of up to 80 magnitude bytes, normalized (`Value::from`): the
/// form a decoder gives back.
fn big_int(u: &mut Unstructured<'_>) -> Result<Value> {
    let sign = if u.arbitrary()? { nodehost::num_bigint::Sign::Minus } else { nodehost::num_bigint::Sign::Plus };
    let len = u.int_in_range(0..=80)?;
    let magnitude = u.bytes(len)?;
    Ok(Value::from(BigInt::from_bytes_le(sign, magnitude)))
}

/// Equality where NaN equals NaN (a NaN's payload may change on the way).
fn same(a: &Value, b: &Value) -> bool {
    let f = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => f(*x, *y),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        (Value::Audio(x), Value::Audio(y)) => {
            x.sample_rate == y.sample_rate
                && x.channels == y.channels
                && x.samples.len() == y.samples.len()
                && x.samples.iter().zip(&y.samples).all(|(a, b)| f(*a as f64, *b as f64))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.shape == y.shape
                && match (&x.data, &y.data) {
                    (ArrayData::F32(a), ArrayData::F32(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| f(*a as f64, *b as f64)),
                    (ArrayData::F64(a), ArrayData::F64(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| f(*a, *b)),
                    (a, b) => a == b,
                }
        }
        (a, b) => a == b,
    }
}

fn check(node: &mut Box<dyn Node>, input: &Value, python: bool) {
    let mut out = Vec::new();
    match node.process(input.clone(), &mut out) {
        Ok(()) => {
            // A Python node returning None gives no output.
            let expected: &[Value] = if python && *input == Value::Null { &[] } else { std::slice::from_ref(input) };
            assert!(
                out.len() == expected.len() && out.iter().zip(expected).all(|(a, b)| same(a, b)),
                "{} changed {input:?} into {out:?}",
                if python { "python" } else { "rust" }
            );
        }
        Err(NodeFailure::Guest(e)) if e.kind == GuestErrorKind::UnsupportedValue => {}
        Err(other) => panic!("{input:?} failed with {other:?}"),
    }
}

/// One input: the whole check.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = value(&mut u, 0) else { return };
    NODES.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (python, rust) = cell.get_or_insert_with(nodes);
        check(python, &input, true);
        check(rust, &input, false);
    });
}
