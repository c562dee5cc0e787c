//! One call into a node, as the host sees it: the limits it runs under
//! ([`CallLimits`]), how they are armed ([`start_call`]), and how its answer
//! is taken ([`take_answer`]): outputs are checked against the limits before
//! they are decoded, so a guest cannot make the host hold more than the
//! policy allows. A `process` call and each input of a `process-many`
//! batch are calls alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use nodehost_sdk::codec::{DecodeError, packed, python_marshal};
use nodehost_sdk::python::{Call, unsupported_output};
use wasmtime::AsContextMut;

use crate::error::{Limit, NodeFailure, SandboxSetup};
use crate::node::ItemAnswer;
use crate::policy::SandboxPolicy;
use crate::sandbox::bindings::types;
use crate::sandbox::codec;
use crate::sandbox::staging::Staging;
use crate::sandbox::store::{HostState, arm_at};

/// Arm the deadlines and fuel of one call under `limits`.
pub(crate) fn start_call(store: impl AsContextMut<Data = HostState>, limits: &CallLimits) -> Result<(), NodeFailure> {
    arm_call_at(store, Instant::now(), limits.soft, limits.timeout, limits.fuel)
}

/// [`start_call`], with the call starting at `now` and the limits'
/// deadlines and fuel given one by one (so a caller holding the limits in
/// the store need not copy them whole).
pub(crate) fn arm_call_at(
    mut store: impl AsContextMut<Data = HostState>,
    now: Instant,
    soft: Option<Duration>,
    timeout: Duration,
    fuel: Option<u64>,
) -> Result<(), NodeFailure> {
    let mut store = store.as_context_mut();
    if let Some(staging) = store.data().staging() {
        staging.begin_call();
    }
    arm_at(&mut store, now, soft, timeout);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel).map_err(|source| NodeFailure::Setup(SandboxSetup::Fuel { source }))?;
    }
    Ok(())
}

/// Take a call's answer: its outputs, checked and decoded onto `out`, or
/// its failure. Nothing is left on `out` when the answer fails.
///
/// `method` names the node method that answered (`process`, `flush`), for
/// a refusal of `python-marshal` data, which reads as the Python runtimes'
/// own ("Class.process() returned a value the pipeline cannot carry: ...").
/// `staging` is the node's staged bytes, when its component asked for them:
/// the answer's `staged` blocks are resolved against them first.
pub(crate) fn take_answer(
    answer: Result<types::Outputs, types::NodeError>,
    limits: &CallLimits,
    method: &str,
    staging: Option<&Staging>,
    out: &mut Vec<Value>,
) -> Result<(), NodeFailure> {
    match answer {
        Ok(mut outputs) => {
            if let Some(staging) = staging {
                staging.resolve(&mut outputs)?;
            }
            // Checked before decoding: a packed list of numbers takes
            // several times its size once decoded, so the check must
            // come first to bound what the host holds. (Marshal data can
            // grow more, by its references; its decoder keeps to the same
            // bound as it goes.)
            check_outputs(&outputs, limits)?;
            let start = out.len();
            let first_type = first_type_name(&outputs);
            codec::outputs_from_wit_within(outputs, out, limits.max_output_bytes).map_err(|e| {
                out.truncate(start);
                match e {
                    DecodeError::Invalid(e) => malformed(e),
                    DecodeError::Refused(why) => {
                        NodeFailure::Guest(unsupported_output(Call { class: &limits.origin, method }, &why))
                    }
                    DecodeError::TooLarge { limit } => {
                        NodeFailure::LimitExceeded(Limit::OutputBytes { limit, type_name: first_type })
                    }
                }
            })
        }
        Err(e) => {
            if let Some(staging) = staging {
                staging.discard();
            }
            Err(guest_failure(e, limits))
        }
    }
}

/// Take the answers of the inputs that passed in a `process-packed` call
/// given `given` inputs (`passed`, the WIT `packed-answers` bytes; `failed`,
/// whether a failure follows them): each input's outputs onto `out` and
/// its answer onto `answers` (each taking `each`), and how many passed.
/// Fails, leaving `out` and `answers` as they were, when the bytes do not
/// frame answers or the answers do not fit the inputs (none, or more than
/// `given`).
pub(crate) fn take_packed_answers(
    passed: &[u8],
    failed: bool,
    given: usize,
    limits: &CallLimits,
    each: Duration,
    out: &mut Vec<Value>,
    answers: &mut Vec<ItemAnswer>,
) -> Result<usize, NodeFailure> {
    let (start, from) = (out.len(), answers.len());
    let mut reader = packed::Reader::new(passed);
    let broken = loop {
        if reader.is_done() || answers.len() - from == given {
            break None;
        }
        let before = out.len();
        match take_packed_answer(&mut reader, limits, out) {
            Ok(result) => answers.push(ItemAnswer::new(out.len() - before, result, each)),
            Err(failure) => break Some(failure),
        }
    };
    let taken = answers.len() - from;
    let answered = taken + usize::from(failed);
    let failure = match broken {
        Some(failure) => failure,
        None if answered == 0 => NodeFailure::BrokeInterface(format!("process-packed answered none of its {given} inputs")),
        None if !reader.is_done() || answered > given => {
            NodeFailure::BrokeInterface(format!("process-packed gave more answers than it had inputs ({given})"))
        }
        None => return Ok(taken),
    };
    out.truncate(start);
    answers.truncate(from);
    Err(failure)
}

/// Take the answer of the next input that passed in a `process-packed`
/// call's bytes (the WIT `packed-answers`): its outputs, checked against
/// the limits as they are decoded and put onto `out`, or why they broke
/// one (nothing is left on `out` then). The outer error is bytes that do
/// not frame an answer: nothing after them can be read.
fn take_packed_answer(
    passed: &mut packed::Reader<'_>,
    limits: &CallLimits,
    out: &mut Vec<Value>,
) -> Result<Result<(), NodeFailure>, NodeFailure> {
    let (count, bytes) = passed.answer().map_err(malformed)?;
    if count > limits.max_outputs {
        return Ok(Err(NodeFailure::LimitExceeded(Limit::Outputs { limit: limits.max_outputs })));
    }
    let start = out.len();
    let result = packed_outputs(packed::Reader::new(bytes), count, bytes.len(), limits, out);
    if result.is_err() {
        out.truncate(start);
    }
    Ok(result)
}

/// `count` packed values from `values`, every byte of it, each held to the
/// output size limit.
fn packed_outputs(
    mut values: packed::Reader<'_>,
    count: u32,
    length: usize,
    limits: &CallLimits,
    out: &mut Vec<Value>,
) -> Result<(), NodeFailure> {
    for _ in 0..count {
        let type_name = packed::tag_type_name(values.peek());
        match values.value_into(limits.max_output_bytes, out) {
            Ok(()) => {}
            Err(DecodeError::TooLarge { limit }) => return Err(NodeFailure::LimitExceeded(Limit::OutputBytes { limit, type_name })),
            Err(e) => return Err(malformed(e.into_node_error())),
        }
    }
    if !values.is_done() {
        return Err(NodeFailure::InvalidValue(format!(
            "the node sent back a malformed value: an answer's {count} outputs take {} of its {length} bytes",
            values.position()
        )));
    }
    Ok(())
}

fn malformed(e: nodehost_sdk::NodeError) -> NodeFailure {
    NodeFailure::InvalidValue(format!("the node sent back a malformed value: {}", e.message))
}

/// The policy's limits in the units a call needs.
#[derive(Debug, Clone)]
pub(crate) struct CallLimits {
    /// The hard deadline of one call, from its start.
    pub(crate) timeout: Duration,
    /// The soft deadline, for interruptible nodes.
    pub(crate) soft: Option<Duration>,
    /// Fuel for one call, when the policy meters it.
    pub(crate) fuel: Option<u64>,
    max_outputs: u32,
    max_output_bytes: u64,
    /// Who answers, as refusals name it: a Python node's class, or the
    /// component's node type.
    pub(crate) origin: Arc<str>,
}

impl CallLimits {
    pub(crate) fn new(policy: &SandboxPolicy, origin: &str) -> Self {
        let soft = policy.is_interruptible().then(|| policy.soft_deadline());
        CallLimits {
            timeout: policy.timeout,
            soft,
            fuel: policy.fuel,
            max_outputs: policy.max_outputs,
            max_output_bytes: policy.max_output_bytes,
            origin: origin.into(),
        }
    }
}


/// Fail a call whose outputs break the policy's limits: too many, or one
/// that would take more than `max_output_bytes` of the host's memory once
/// decoded.
fn check_outputs(outputs: &types::Outputs, limits: &CallLimits) -> Result<(), NodeFailure> {
    let values = match outputs {
        types::Outputs::None => return Ok(()),
        types::Outputs::One(v) => std::slice::from_ref(v),
        types::Outputs::Many(vs) => vs.as_slice(),
        types::Outputs::OnePythonMarshal(text) => {
            check_count(1, limits)?;
            // At least this, as `python-marshal`.
            return check_size(SLOT + text.len() as u64, || latin1_marshal_type_name(text), limits);
        }
    };
    check_count(values.len(), limits)?;
    for v in values {
        check_size(decoded_size(v), || wit_type_name(v), limits)?;
    }
    Ok(())
}

fn check_count(outputs: usize, limits: &CallLimits) -> Result<(), NodeFailure> {
    if outputs > limits.max_outputs as usize {
        return Err(NodeFailure::LimitExceeded(Limit::Outputs { limit: limits.max_outputs }));
    }
    Ok(())
}

/// Fail an output of `size` decoded bytes past the limit, naming its type.
fn check_size(size: u64, type_name: impl FnOnce() -> &'static str, limits: &CallLimits) -> Result<(), NodeFailure> {
    if size > limits.max_output_bytes {
        return Err(NodeFailure::LimitExceeded(Limit::OutputBytes { limit: limits.max_output_bytes, type_name: type_name() }));
    }
    Ok(())
}

/// One value slot as the host holds it.
const SLOT: u64 = size_of::<Value>() as u64;

/// Bytes the host holds for `v` once decoded: every value its slot, every
/// payload its length (so a packed list counts a slot per number).
fn decoded_size(v: &types::Value) -> u64 {
    match v {
        types::Value::Text(s) => SLOT + s.len() as u64,
        types::Value::Bytes(b) => SLOT + b.len() as u64,
        types::Value::Audio(a) => SLOT + 4 * a.samples.len() as u64,
        types::Value::Array(a) => SLOT + array_bytes(a),
        types::Value::BigInteger(b) => SLOT + big_int_bytes(b),
        types::Value::PackedAudio(a) => SLOT + packed_bytes(&a.samples),
        types::Value::PackedArray(a) => SLOT + packed_array_bytes(a),
        // At least this; its decoder counts the rest as it goes.
        types::Value::PythonMarshal(data) => SLOT + packed_bytes(data),
        types::Value::PythonMarshalRaw(data) => SLOT + data.len() as u64,
        types::Value::Nested(nodes) => nodes.iter().map(node_size).sum(),
        types::Value::Null | types::Value::Boolean(_) | types::Value::Integer(_) | types::Value::Float(_) => SLOT,
    }
}

fn node_size(n: &types::ValueNode) -> u64 {
    match n {
        types::ValueNode::Text(s) => SLOT + s.len() as u64,
        types::ValueNode::Bytes(b) => SLOT + b.len() as u64,
        types::ValueNode::Audio(a) => SLOT + 4 * a.samples.len() as u64,
        types::ValueNode::Array(a) => SLOT + array_bytes(a),
        types::ValueNode::BigInteger(b) => SLOT + big_int_bytes(b),
        types::ValueNode::PackedAudio(a) => SLOT + packed_bytes(&a.samples),
        types::ValueNode::PackedArray(a) => SLOT + packed_array_bytes(a),
        types::ValueNode::IntList(v) => SLOT * (1 + v.len() as u64),
        types::ValueNode::FloatList(v) => SLOT * (1 + v.len() as u64),
        types::ValueNode::Map(entries) => {
            SLOT + entries.iter().map(|e| (size_of::<String>() + e.key.len()) as u64).sum::<u64>()
        }
        types::ValueNode::List(_)
        | types::ValueNode::Null
        | types::ValueNode::Boolean(_)
        | types::ValueNode::Integer(_)
        | types::ValueNode::Float(_) => SLOT,
    }
}

/// A big int's magnitude as the host holds it once decoded: in whole
/// 64-bit digits. (Trailing zero bytes, which a careless guest may send,
/// are counted too: the bytes arrive before they are dropped.)
fn big_int_bytes(b: &types::BigInt) -> u64 {
    (b.magnitude.len() as u64).div_ceil(8) * 8
}

fn array_bytes(a: &types::NumArray) -> u64 {
    let data = match &a.data {
        types::ArrayData::F32(v) => 4 * v.len(),
        types::ArrayData::F64(v) => 8 * v.len(),
        types::ArrayData::I64(v) => 8 * v.len(),
    };
    (data + 4 * a.shape.len()) as u64
}

fn packed_array_bytes(a: &types::PackedNumArray) -> u64 {
    packed_bytes(&a.data) + 4 * a.shape.len() as u64
}

/// Bytes a `packed-bytes` holds once decoded (a `latin1` char is at least
/// one byte of its text, so its text's length bounds them).
fn packed_bytes(p: &types::PackedBytes) -> u64 {
    match p {
        types::PackedBytes::Raw(bytes) => bytes.len() as u64,
        types::PackedBytes::Latin1(text) => text.len() as u64,
        // Resolved before the check when the component may stage; else
        // refused when decoded.
        types::PackedBytes::Staged(range) => u64::from(range.length),
    }
}

/// The type of a call's first output (for a limit only marshal data can
/// pass while decoding: its kind is known from its first byte).
fn first_type_name(outputs: &types::Outputs) -> &'static str {
    match outputs {
        types::Outputs::One(v) => wit_type_name(v),
        types::Outputs::OnePythonMarshal(text) => latin1_marshal_type_name(text),
        types::Outputs::Many(vs) => vs.iter().find(|v| matches!(v, types::Value::PythonMarshal(_))).map_or("list", wit_type_name),
        types::Outputs::None => "list",
    }
}

/// The name of the type `v` decodes to, for messages.
fn wit_type_name(v: &types::Value) -> &'static str {
    match v {
        types::Value::Null => "null",
        types::Value::Boolean(_) => "bool",
        types::Value::Integer(_) | types::Value::BigInteger(_) => "int",
        types::Value::Float(_) => "float",
        types::Value::Text(_) => "str",
        types::Value::Bytes(_) => "bytes",
        types::Value::Audio(_) | types::Value::PackedAudio(_) => "audio",
        types::Value::Array(_) | types::Value::PackedArray(_) => "array",
        types::Value::PythonMarshal(types::PackedBytes::Raw(data)) => python_marshal::value_type_name(data.first().copied()),
        types::Value::PythonMarshal(types::PackedBytes::Latin1(text)) => latin1_marshal_type_name(text),
        types::Value::PythonMarshalRaw(data) => python_marshal::value_type_name(data.first().copied()),
        // Unresolved: refused when decoded.
        types::Value::PythonMarshal(types::PackedBytes::Staged(_)) => "value",
        types::Value::Nested(nodes) => match nodes.first() {
            Some(types::ValueNode::Map(_)) => "map",
            _ => "list",
        },
    }
}

/// The type of marshal data sent as Latin-1 text, from its first char.
fn latin1_marshal_type_name(text: &str) -> &'static str {
    python_marshal::value_type_name(text.chars().next().and_then(|c| u8::try_from(u32::from(c)).ok()))
}

/// A guest's own error, as the failure kind it is.
pub(crate) fn guest_failure(e: types::NodeError, limits: &CallLimits) -> NodeFailure {
    NodeFailure::from_guest(codec::error_from_wit(e), limits.soft.unwrap_or(limits.timeout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(max_outputs: u32, max_output_bytes: u64) -> CallLimits {
        let policy = SandboxPolicy { max_outputs, max_output_bytes, ..SandboxPolicy::default() };
        CallLimits::new(&policy, "node")
    }

    /// One passed input's answer as a guest frames it.
    fn answer(values: &[Value]) -> Vec<u8> {
        let mut framed = Vec::new();
        packed::encode_answer(values, &mut framed).unwrap();
        framed
    }

    fn take_all(passed: &[u8], limits: &CallLimits) -> (Vec<Result<Vec<Value>, String>>, Option<String>) {
        let mut reader = packed::Reader::new(passed);
        let mut taken = Vec::new();
        while !reader.is_done() {
            let mut out = vec![Value::from("before")];
            match take_packed_answer(&mut reader, limits, &mut out) {
                Ok(result) => {
                    assert_eq!(out.remove(0), Value::from("before"), "what was on `out` stays");
                    taken.push(result.map(|()| out).map_err(|f| f.to_string()));
                }
                Err(broken) => return (taken, Some(broken.to_string())),
            }
        }
        (taken, None)
    }

    #[test]
    fn packed_answers_are_taken_one_by_one_each_within_its_limits() {
        let mut passed = answer(&[Value::Int(1), Value::from("one")]);
        passed.extend(answer(&[]));
        passed.extend(answer(&[Value::Null, Value::Null, Value::Null]));
        passed.extend(answer(&[Value::from("x".repeat(5000))]));
        passed.extend(answer(&[Value::List(vec![Value::Float(2.5)])]));
        let (taken, broken) = take_all(&passed, &limits(2, 4096));
        assert_eq!(broken, None);
        assert_eq!(taken[0], Ok(vec![Value::Int(1), Value::from("one")]));
        assert_eq!(taken[1], Ok(vec![]));
        assert!(taken[2].as_ref().unwrap_err().contains("more than 2 outputs"), "{:?}", taken[2]);
        assert!(taken[3].as_ref().unwrap_err().contains("str"), "{:?}", taken[3]);
        assert_eq!(taken[4], Ok(vec![Value::List(vec![Value::Float(2.5)])]));
    }

    #[test]
    fn an_answer_whose_bytes_do_not_fit_its_outputs_fails_alone() {
        // One output announced, two sent; then a good answer.
        let mut passed = answer(&[Value::Int(1), Value::Int(2)]);
        passed[..4].copy_from_slice(&1u32.to_le_bytes());
        passed.extend(answer(&[Value::Int(3)]));
        let (taken, broken) = take_all(&passed, &limits(10, 1 << 20));
        assert_eq!(broken, None);
        assert!(taken[0].as_ref().unwrap_err().contains("outputs take 9 of its 18 bytes"), "{:?}", taken[0]);
        assert_eq!(taken[1], Ok(vec![Value::Int(3)]));
        // Garbage inside a well-framed answer fails that answer only.
        let mut passed = vec![1, 0, 0, 0, 2, 0, 0, 0, 99, 99];
        passed.extend(answer(&[Value::Bool(true)]));
        let (taken, broken) = take_all(&passed, &limits(10, 1 << 20));
        assert_eq!(broken, None);
        assert!(taken[0].as_ref().unwrap_err().contains("unknown tag 99"), "{:?}", taken[0]);
        assert_eq!(taken[1], Ok(vec![Value::Bool(true)]));
    }

    #[test]
    fn bytes_that_frame_no_answer_stop_the_reading() {
        let mut passed = answer(&[Value::Int(1)]);
        // An answer that says it is longer than what is left.
        passed.extend_from_slice(&[1, 0, 0, 0, 200, 0, 0, 0, 0]);
        let (taken, broken) = take_all(&passed, &limits(10, 1 << 20));
        assert_eq!(taken, vec![Ok(vec![Value::Int(1)])]);
        assert!(broken.unwrap().contains("malformed"));
    }

    #[test]
    fn a_batchs_packed_answers_must_fit_its_inputs() {
        let limits = limits(10, 1 << 20);
        let two = [answer(&[Value::Int(1)]), answer(&[Value::Int(2), Value::Int(3)])].concat();
        let take = |passed: &[u8], failed: bool, given: usize, out: &mut Vec<Value>| {
            let mut answers = Vec::new();
            take_packed_answers(passed, failed, given, &limits, Duration::ZERO, out, &mut answers)
                .map(|n| {
                    assert_eq!(n, answers.len());
                    answers.iter().map(|a| (a.outputs, a.result.is_ok())).collect::<Vec<_>>()
                })
                .inspect_err(|_| assert!(answers.is_empty()))
        };
        let mut out = vec![Value::Null];
        let taken = take(&two, false, 2, &mut out).unwrap();
        assert_eq!(taken, vec![(1, true), (2, true)]);
        assert_eq!(out, vec![Value::Null, Value::Int(1), Value::Int(2), Value::Int(3)]);
        // Two answered and one failed, for three inputs.
        let mut out = Vec::new();
        assert_eq!(take(&two, true, 3, &mut out).unwrap().len(), 2);
        let broken = |passed: &[u8], failed: bool, given: usize| {
            let mut out = vec![Value::Null];
            let failure = take(passed, failed, given, &mut out).unwrap_err();
            assert_eq!(out, vec![Value::Null], "nothing taken");
            failure.to_string()
        };
        assert!(broken(&two, false, 1).contains("more answers than it had inputs (1)"));
        assert!(broken(&two, true, 2).contains("more answers than it had inputs (2)"));
        assert!(broken(&[], false, 4).contains("answered none of its 4 inputs"));
        assert!(broken(&two[..two.len() - 1], false, 2).contains("malformed"));
    }

    proptest! {
        #[test]
        fn garbage_batches_never_panic_nor_give_more_answers_than_inputs(
            answers in proptest::collection::vec(proptest::collection::vec(any::<i64>(), 0..4), 0..6),
            flip: (usize, u8),
            failed: bool,
            given in 1usize..6,
        ) {
            // Well-framed answers with one byte changed (or none).
            let mut passed: Vec<u8> = answers.iter().flat_map(|a| answer(&a.iter().map(|&i| Value::Int(i)).collect::<Vec<_>>())).collect();
            if !passed.is_empty() {
                let at = flip.0 % passed.len();
                passed[at] ^= flip.1;
            }
            let (mut out, mut taken) = (Vec::new(), Vec::new());
            match take_packed_answers(&passed, failed, given, &limits(3, 1024), Duration::ZERO, &mut out, &mut taken) {
                Ok(n) => {
                    prop_assert_eq!(n, taken.len());
                    prop_assert!(!taken.is_empty() || failed);
                    prop_assert!(taken.len() + usize::from(failed) <= given);
                    prop_assert_eq!(taken.iter().map(|a| a.outputs).sum::<usize>(), out.len());
                }
                Err(_) => prop_assert!(out.is_empty() && taken.is_empty()),
            }
        }

        #[test]
        fn garbage_answers_never_panic_and_stay_within_the_limits(
            passed in proptest::collection::vec(any::<u8>(), 0..128),
            max_outputs in 0u32..4,
            max_bytes in 0u64..512,
        ) {
            let (taken, _) = take_all(&passed, &limits(max_outputs, max_bytes));
            for outputs in taken.into_iter().flatten() {
                prop_assert!(outputs.len() <= max_outputs as usize);
            }
        }
    }
}
