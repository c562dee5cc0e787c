//! A `process-packed` batch as a node answers it ([`DynNode::process_packed`]):
//! the packed inputs still to read, the answers of the inputs that passed,
//! and the outputs of the input in hand, each answer held to the host's
//! output count.
//!
//! A node answers the inputs in turn and stops at the first that fails;
//! what it answered before stays in the batch, so the host takes those and
//! reports the failed input alone (the WIT `packed-answers`).
//!
//! [`DynNode::process_packed`]: crate::DynNode::process_packed

use crate::codec::packed::{self, Reader};
use crate::{ErrorKind, NodeError, Value};

/// One `process-packed` call's inputs and answers.
pub struct PackedBatch<'a> {
    inputs: Reader<'a>,
    passed: Vec<u8>,
    out: &'a mut Vec<Value>,
    max_outputs: usize,
}

impl<'a> PackedBatch<'a> {
    /// A batch over packed `inputs`, whose answers may hold at most
    /// `max_outputs` values each; `out` is the buffer the outputs of one
    /// input are gathered in (cleared for each input).
    pub fn new(inputs: &'a [u8], out: &'a mut Vec<Value>, max_outputs: usize) -> Self {
        PackedBatch { inputs: Reader::new(inputs), passed: Vec::new(), out, max_outputs }
    }

    /// The next input, with the outputs buffer emptied for it; `None` when
    /// every input has been read.
    ///
    /// # Errors
    /// Inputs that do not decode (`internal`: the host packed them).
    #[inline]
    pub fn next_input(&mut self) -> Result<Option<Value>, NodeError> {
        if self.inputs.is_done() {
            return Ok(None);
        }
        self.out.clear();
        self.inputs.value(u64::MAX).map(Some).map_err(|e| {
            NodeError::new(
                ErrorKind::Internal,
                format!("the host's packed inputs did not decode: {}", e.into_node_error().message),
            )
        })
    }

    /// Where the outputs of the input in hand go before [`pass`](Self::pass).
    #[inline]
    pub fn outputs(&mut self) -> &mut Vec<Value> {
        self.out
    }

    /// The input in hand passed with the outputs gathered in
    /// [`outputs`](Self::outputs): its answer is added.
    ///
    /// # Errors
    /// More outputs than the host allows, or an output the packed form
    /// refuses; no answer is added then.
    #[inline]
    pub fn pass(&mut self) -> Result<(), NodeError> {
        check_output_count(self.out, self.max_outputs)?;
        packed::encode_answer(self.out, &mut self.passed)
    }

    /// The input in hand passed with the one output `Value::Int(i)`
    /// (whatever [`outputs`](Self::outputs) holds): as [`pass`](Self::pass)
    /// would answer it, without building the value.
    ///
    /// # Errors
    /// The host allows no output at all.
    #[inline]
    pub fn pass_int(&mut self, i: i64) -> Result<(), NodeError> {
        if self.max_outputs == 0 {
            return Err(too_many_outputs(1, self.max_outputs));
        }
        packed::encode_int_answer(i, &mut self.passed);
        Ok(())
    }

    /// The input in hand passed with the one output `Value::Str(s)`
    /// (whatever [`outputs`](Self::outputs) holds): as [`pass`](Self::pass)
    /// would answer it, without copying `s` into a value.
    ///
    /// # Errors
    /// The host allows no output at all, or `s` is 4 GiB or more.
    #[inline]
    pub fn pass_str(&mut self, s: &str) -> Result<(), NodeError> {
        if self.max_outputs == 0 {
            return Err(too_many_outputs(1, self.max_outputs));
        }
        packed::encode_str_answer(s, &mut self.passed)
    }

    /// The answers of the inputs that passed, framed as the WIT
    /// `packed-answers.passed`.
    pub fn into_passed(self) -> Vec<u8> {
        self.passed
    }
}

/// Fail an input that gave more outputs than the host's limit, emptying
/// `out`.
///
/// # Errors
/// `limit-exceeded` when `out` holds more than `max` values.
#[inline]
pub fn check_output_count(out: &mut Vec<Value>, max: usize) -> Result<(), NodeError> {
    if out.len() > max {
        let n = out.len();
        out.clear();
        return Err(too_many_outputs(n, max));
    }
    Ok(())
}

#[cold]
fn too_many_outputs(n: usize, max: usize) -> NodeError {
    NodeError::new(ErrorKind::LimitExceeded, format!("the node gave {n} outputs for one input; the limit is {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(values: &[Value]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for v in values {
            packed::encode(v, &mut bytes).unwrap();
        }
        bytes
    }

    fn answers(passed: &[u8]) -> Vec<Vec<Value>> {
        let mut reader = Reader::new(passed);
        let mut all = Vec::new();
        while !reader.is_done() {
            let (count, bytes) = reader.answer().unwrap();
            let mut values = Reader::new(bytes);
            let answer: Vec<Value> = (0..count).map(|_| values.value(u64::MAX).unwrap()).collect();
            assert!(values.is_done());
            all.push(answer);
        }
        all
    }

    #[test]
    fn a_passed_int_answers_as_the_general_path_does() {
        for i in [0, 1, -1, i64::MIN, i64::MAX, 1 << 40] {
            let inputs = packed(&[Value::Null, Value::Null]);
            let mut out = Vec::new();
            let mut batch = PackedBatch::new(&inputs, &mut out, 4);
            batch.next_input().unwrap().unwrap();
            batch.outputs().push(Value::Int(i));
            batch.pass().unwrap();
            batch.next_input().unwrap().unwrap();
            batch.pass_int(i).unwrap();
            assert_eq!(batch.next_input().unwrap(), None);
            let passed = batch.into_passed();
            let (general, fast) = passed.split_at(passed.len() / 2);
            assert_eq!(general, fast, "{i}");
            assert_eq!(answers(&passed), [vec![Value::Int(i)], vec![Value::Int(i)]]);
        }
    }

    #[test]
    fn a_passed_str_answers_as_the_general_path_does() {
        for s in ["", "Result: 42", "é\u{1F600}\0", &"x".repeat(70_000)] {
            let inputs = packed(&[Value::Null, Value::Null]);
            let mut out = Vec::new();
            let mut batch = PackedBatch::new(&inputs, &mut out, 4);
            batch.next_input().unwrap().unwrap();
            batch.outputs().push(Value::Str(s.to_owned()));
            batch.pass().unwrap();
            batch.next_input().unwrap().unwrap();
            batch.pass_str(s).unwrap();
            let passed = batch.into_passed();
            let (general, fast) = passed.split_at(passed.len() / 2);
            assert_eq!(general, fast, "{s:.20}");
            assert_eq!(answers(&passed), [vec![Value::Str(s.to_owned())], vec![Value::Str(s.to_owned())]]);
        }
    }

    #[test]
    fn each_input_gets_an_empty_buffer_and_a_failed_answer_adds_nothing() {
        let inputs = packed(&[Value::Int(1), Value::Str("two".into()), Value::Int(3)]);
        let mut out = vec![Value::Null];
        let mut batch = PackedBatch::new(&inputs, &mut out, 1);
        assert_eq!(batch.next_input().unwrap(), Some(Value::Int(1)));
        assert!(batch.outputs().is_empty());
        batch.outputs().extend([Value::Int(1), Value::Int(1)]);
        let e = batch.pass().unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
        assert_eq!(e.message, "the node gave 2 outputs for one input; the limit is 1");
        assert_eq!(batch.next_input().unwrap(), Some(Value::Str("two".into())));
        assert!(batch.outputs().is_empty());
        batch.pass().unwrap();
        assert_eq!(batch.next_input().unwrap(), Some(Value::Int(3)));
        assert_eq!(answers(&batch.into_passed()), [Vec::<Value>::new()]);
    }

    #[test]
    fn no_output_allowed_refuses_a_passed_int_or_str() {
        let inputs = packed(&[Value::Int(1)]);
        let mut out = Vec::new();
        let mut batch = PackedBatch::new(&inputs, &mut out, 0);
        batch.next_input().unwrap();
        assert_eq!(batch.pass_int(7).unwrap_err().kind, ErrorKind::LimitExceeded);
        assert_eq!(batch.pass_str("seven").unwrap_err().kind, ErrorKind::LimitExceeded);
        assert!(batch.into_passed().is_empty());
    }

    #[test]
    fn inputs_that_do_not_decode_fail_as_internal() {
        let inputs = [200u8];
        let mut out = Vec::new();
        let mut batch = PackedBatch::new(&inputs, &mut out, 4);
        let e = batch.next_input().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(e.message.starts_with("the host's packed inputs did not decode: "), "{}", e.message);
    }
}
