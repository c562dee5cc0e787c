//! Staged bytes: packed bytes a component sends back by writing them to its
//! stdout (`packed-bytes.staged` in `wit/node.wit`), for a component that
//! asked for them (`value-forms.staged-bytes`).
//!
//! Why: componentize-py 0.25.1 leaks every `list<u8>` a component returns
//! and encodes a returned `string` as UTF-8 at 5-10 ns a byte above 0x7f,
//! so the CPython guest had no cheap way to send an audio frame or 1 MB of
//! bytes back (a 48 kHz frame took 3 ms). A write to stdout goes from the
//! guest's memory to the host as it is, in a few calls of up to the
//! `check-write` permit.
//!
//! [`Staging`] is shared by the node's stdout stream, which appends what the
//! guest writes during a call (up to the node's memory limit, what one
//! answer through the canonical ABI could hold; past that the bytes are
//! counted, not kept), and the store, which resolves the
//! `staged` blocks of the call's answer into `raw` ones before the answer is
//! checked and decoded ([`Staging::resolve`]). The blocks must cover what
//! was written exactly: a guest cannot make the host keep bytes past the
//! call. Bytes written when the answer names none are text the node wrote
//! itself (a C-level `printf`, `os.write(1, ...)`), and go to its log.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Limit, NodeFailure};
use crate::log::{GuestLog, Stream};
use crate::sandbox::bindings::types;

/// What a node wrote to its stdout during the running call, when its
/// component asked for staged bytes.
#[derive(Clone)]
pub(crate) struct Staging {
    inner: Arc<Mutex<Staged>>,
    /// Where bytes no block names go.
    log: Arc<GuestLog>,
}

struct Staged {
    /// Whether stdout carries staged bytes (the component asked for them).
    enabled: bool,
    /// The bytes written during the running call, up to `limit`.
    written: Vec<u8>,
    /// Bytes past `limit`, counted and dropped.
    overflow: u64,
    limit: usize,
}

impl Staging {
    /// Staging that keeps at most `limit` bytes a call, for the node whose
    /// log is `log`; off until [`enable`](Self::enable)d.
    pub(crate) fn new(limit: u64, log: Arc<GuestLog>) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let staged = Staged {
            enabled: false,
            written: Vec::new(),
            overflow: 0,
            limit,
        };
        Staging {
            inner: Arc::new(Mutex::new(staged)),
            log,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Staged> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on, stdout carries staged bytes.
    pub(crate) fn enable(&self) {
        self.lock().enabled = true;
    }

    /// Take what a guest wrote to its stdout: true when staging kept (or
    /// counted) it, false when stdout is the log's.
    pub(crate) fn write(&self, bytes: &[u8]) -> bool {
        let mut staged = self.lock();
        if !staged.enabled {
            return false;
        }
        if staged.overflow == 0 && staged.written.len() + bytes.len() <= staged.limit {
            staged.written.extend_from_slice(bytes);
        } else {
            staged.overflow += bytes.len() as u64;
        }
        true
    }

    /// A call starts: what was written since the last answer (while the
    /// node was created, or loaded its module) was the node's own text.
    pub(crate) fn begin_call(&self) {
        self.written_to_log();
    }

    /// What was written goes to the log as the node's text.
    fn written_to_log(&self) {
        let mut staged = self.lock();
        if !staged.written.is_empty() || staged.overflow > 0 {
            to_log(&mut staged, &self.log);
        }
    }

    /// A call ends whose answer names no staged bytes: what it wrote was
    /// the node's own text (to the log), unless its answer failed, and it
    /// goes with it.
    pub(crate) fn end_unnamed(&self, failed: bool) {
        if failed {
            self.discard();
        } else {
            self.written_to_log();
        }
    }

    /// The call's answer failed: what it staged goes with it.
    pub(crate) fn discard(&self) {
        let mut staged = self.lock();
        staged.written.clear();
        staged.overflow = 0;
    }

    /// Replace the `staged` blocks of a call's answer by the bytes they
    /// name, and end the call's staging. Fails when a block names bytes
    /// that were not written, when the blocks do not cover what was written
    /// exactly, or when more was written than the policy lets an answer
    /// hold; with no blocks, what was written goes to the log.
    pub(crate) fn resolve(&self, outputs: &mut types::Outputs) -> Result<(), NodeFailure> {
        let mut staged = self.lock();
        let mut blocks = Vec::new();
        for v in values_mut(outputs) {
            collect_value(v, &mut blocks);
        }
        if blocks.is_empty() {
            if !staged.written.is_empty() || staged.overflow > 0 {
                to_log(&mut staged, &self.log);
            }
            return Ok(());
        }
        let result = fill(&mut staged, blocks);
        staged.written.clear();
        staged.overflow = 0;
        result
    }
}

impl Staging {
    /// The bytes of a `process-packed` call's answers staged as `range`,
    /// which must be all the call wrote (as [`resolve`](Self::resolve)
    /// checks a call's blocks); the call's staging ends.
    pub(crate) fn resolve_packed(&self, range: types::StagedRange) -> Result<Vec<u8>, NodeFailure> {
        let mut staged = self.lock();
        let mut bytes = types::PackedBytes::Staged(range);
        let result = fill(&mut staged, vec![(range, &mut bytes)]);
        staged.written.clear();
        staged.overflow = 0;
        result?;
        match bytes {
            types::PackedBytes::Raw(bytes) => Ok(bytes),
            _ => unreachable!("fill gives every block its bytes"),
        }
    }

    /// [`resolve`](Self::resolve) for the answers of one `process-batch`
    /// call, in order. Each answer names its blocks as a call of its own
    /// would, from where its bytes begin: the first answer's at the call's
    /// first byte, each next one's after all the bytes the one before
    /// named. A last answer that failed leaves the bytes after those
    /// unnamed, and they go with it. With no blocks in any answer, what was
    /// written goes to the log.
    pub(crate) fn resolve_batch(&self, answers: &mut [Result<types::Outputs, types::NodeError>]) -> Result<(), NodeFailure> {
        let mut staged = self.lock();
        let last_failed = answers.last().is_some_and(Result::is_err);
        let mut blocks: Vec<(usize, Block<'_>)> = Vec::new();
        for (k, answer) in answers.iter_mut().enumerate() {
            let Ok(outputs) = answer else { continue };
            let mut own = Vec::new();
            for v in values_mut(outputs) {
                collect_value(v, &mut own);
            }
            blocks.extend(own.into_iter().map(|b| (k, b)));
        }
        if blocks.is_empty() {
            if last_failed {
                staged.written.clear();
                staged.overflow = 0;
            } else if !staged.written.is_empty() || staged.overflow > 0 {
                to_log(&mut staged, &self.log);
            }
            return Ok(());
        }
        let result = fill_in_turn(&mut staged, blocks, last_failed);
        staged.written.clear();
        staged.overflow = 0;
        result
    }
}

/// [`fill`] for answers in turn: `blocks` tagged with their answer, in order.
fn fill_in_turn(staged: &mut Staged, blocks: Vec<(usize, Block<'_>)>, last_failed: bool) -> Result<(), NodeFailure> {
    if staged.overflow > 0 {
        return Err(NodeFailure::LimitExceeded(Limit::OutputBytes { limit: staged.limit as u64, type_name: "staged bytes" }));
    }
    let written = staged.written.len() as u64;
    // Each answer's span: the bytes its blocks name.
    let mut spans: Vec<(usize, u64)> = Vec::new();
    for (k, (range, _)) in &blocks {
        match spans.last_mut() {
            Some((last, span)) if last == k => *span += u64::from(range.length),
            _ => spans.push((*k, u64::from(range.length))),
        }
    }
    let named: u64 = spans.iter().map(|(_, span)| span).sum();
    if named > written || (named < written && !last_failed) {
        return Err(NodeFailure::InvalidValue(format!(
            "the node wrote {written} bytes to its stdout in this batch and its answers name {named} of them as staged \
             bytes: the component's stdout carries its outputs' bytes, nothing else (print() goes to the log)"
        )));
    }
    let (mut start, mut spans) = (0u64, spans.into_iter());
    let mut current = spans.next();
    for (k, (range, block)) in blocks {
        while let Some((owner, span)) = current
            && owner != k
        {
            start += span;
            current = spans.next();
        }
        let span = current.map_or(0, |(_, span)| span);
        let (offset, length) = (u64::from(range.offset), u64::from(range.length));
        if offset + length > span {
            return Err(NodeFailure::InvalidValue(format!(
                "the node sent back a malformed value: an answer names staged bytes {offset}..{} but its answer's bytes are {span}",
                offset + length
            )));
        }
        let from = usize::try_from(start + offset).expect("within the written bytes");
        *block = types::PackedBytes::Raw(staged.written[from..from + range.length as usize].to_vec());
    }
    Ok(())
}

/// Send what was written to the log as the node's stdout text, and count
/// what was past the limit as dropped log output.
fn to_log(staged: &mut Staged, log: &GuestLog) {
    let written = std::mem::take(&mut staged.written);
    log.write_stream(Stream::Stdout, &written);
    log.count_dropped(std::mem::take(&mut staged.overflow));
    // Keep the buffer's memory for the next call's blocks.
    staged.written = written;
    staged.written.clear();
}

/// Check `blocks` against what was written and give each its bytes.
fn fill(staged: &mut Staged, mut blocks: Vec<Block<'_>>) -> Result<(), NodeFailure> {
    let written = staged.written.len() as u64;
    if staged.overflow > 0 {
        return Err(NodeFailure::LimitExceeded(Limit::OutputBytes {
            limit: staged.limit as u64,
            type_name: "staged bytes",
        }));
    }
    let mut named = 0u64;
    for (range, _) in &blocks {
        let (offset, length) = (u64::from(range.offset), u64::from(range.length));
        if offset + length > written {
            return Err(NodeFailure::InvalidValue(format!(
                "the node sent back a malformed value: it names staged bytes {offset}..{} but wrote {written} bytes to its stdout in this call",
                offset + length
            )));
        }
        named += length;
    }
    if named != written {
        return Err(NodeFailure::InvalidValue(format!(
            "the node wrote {written} bytes to its stdout in this call and its outputs name {named} of them as staged \
             bytes: the component's stdout carries its outputs' bytes, nothing else (print() goes to the log)"
        )));
    }
    // The usual case, one block of everything: the buffer itself.
    if let [(range, only)] = &mut blocks[..]
        && range.offset == 0
    {
        // The next call likely stages as much: room for it now, so its
        // writes do not grow the buffer step by step.
        let room = Vec::with_capacity(staged.written.len());
        **only = types::PackedBytes::Raw(std::mem::replace(&mut staged.written, room));
        return Ok(());
    }
    for (range, block) in blocks {
        let start = range.offset as usize;
        *block = types::PackedBytes::Raw(staged.written[start..start + range.length as usize].to_vec());
    }
    Ok(())
}

/// A `staged` block of an answer: where its bytes are, and the place they go.
type Block<'a> = (types::StagedRange, &'a mut types::PackedBytes);

fn values_mut(outputs: &mut types::Outputs) -> &mut [types::Value] {
    match outputs {
        // The short marshal answer is text, never staged.
        types::Outputs::None | types::Outputs::OnePythonMarshal(_) => &mut [],
        types::Outputs::One(v) => std::slice::from_mut(v),
        types::Outputs::Many(vs) => vs,
    }
}

/// The `staged` blocks of one value, in the order they appear.
fn collect_value<'a>(v: &'a mut types::Value, blocks: &mut Vec<Block<'a>>) {
    match v {
        types::Value::PythonMarshal(p) => collect_bytes(p, blocks),
        types::Value::PackedAudio(a) => collect_bytes(&mut a.samples, blocks),
        types::Value::PackedArray(a) => collect_bytes(&mut a.data, blocks),
        types::Value::Nested(nodes) => {
            for node in nodes {
                match node {
                    types::ValueNode::PackedAudio(a) => collect_bytes(&mut a.samples, blocks),
                    types::ValueNode::PackedArray(a) => collect_bytes(&mut a.data, blocks),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn collect_bytes<'a>(p: &'a mut types::PackedBytes, blocks: &mut Vec<Block<'a>>) {
    if let types::PackedBytes::Staged(range) = p {
        let range = *range;
        blocks.push((range, p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging(limit: u64) -> Staging {
        let staging = Staging::new(limit, GuestLog::new("t", 4096));
        staging.enable();
        staging
    }

    fn block(offset: u32, length: u32) -> types::PackedBytes {
        types::PackedBytes::Staged(types::StagedRange { offset, length })
    }

    fn raw(v: &types::Value) -> &[u8] {
        match v {
            types::Value::PythonMarshal(types::PackedBytes::Raw(b)) => b,
            types::Value::PackedAudio(a) => match &a.samples {
                types::PackedBytes::Raw(b) => b,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn blocks_get_the_bytes_they_name_in_any_order() {
        let s = staging(1 << 20);
        assert!(s.write(b"abcd"));
        assert!(s.write(b"efgh"));
        let frame = types::PackedAudioFrame { samples: block(0, 4), sample_rate: 8000, channels: 1 };
        let mut out = types::Outputs::Many(vec![types::Value::PythonMarshal(block(4, 4)), types::Value::PackedAudio(frame)]);
        s.resolve(&mut out).unwrap();
        let types::Outputs::Many(vs) = &out else { panic!() };
        assert_eq!((raw(&vs[0]), raw(&vs[1])), (&b"efgh"[..], &b"abcd"[..]));
        // The call's bytes are gone: the next answer starts from nothing.
        let mut out = types::Outputs::One(types::Value::PythonMarshal(block(0, 1)));
        assert!(matches!(s.resolve(&mut out), Err(NodeFailure::InvalidValue(m)) if m.contains("wrote 0 bytes")));
    }

    fn marshal(b: types::PackedBytes) -> Result<types::Outputs, types::NodeError> {
        Ok(types::Outputs::One(types::Value::PythonMarshal(b)))
    }

    fn failed() -> Result<types::Outputs, types::NodeError> {
        Err(types::NodeError { kind: types::ErrorKind::Raised, message: "m".into(), exception_type: None, traceback: None })
    }

    fn raw_answer(a: &Result<types::Outputs, types::NodeError>) -> &[u8] {
        match a {
            Ok(types::Outputs::One(v)) => raw(v),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_batchs_answers_name_their_bytes_from_where_each_begins() {
        let s = staging(1 << 20);
        s.write(b"abc");
        s.write(b"defgh");
        s.write(b"ij");
        // The first answer's 3 bytes, the second's 5 (named from its own
        // start, in two blocks out of order), one with none, the last's 2.
        let frame = types::PackedAudioFrame { samples: block(0, 2), sample_rate: 8000, channels: 1 };
        let mut answers = vec![
            marshal(block(0, 3)),
            Ok(types::Outputs::Many(vec![types::Value::PythonMarshal(block(2, 3)), types::Value::PackedAudio(frame)])),
            Ok(types::Outputs::None),
            marshal(block(0, 2)),
        ];
        s.resolve_batch(&mut answers).unwrap();
        assert_eq!(raw_answer(&answers[0]), b"abc");
        let Ok(types::Outputs::Many(vs)) = &answers[1] else { panic!() };
        assert_eq!((raw(&vs[0]), raw(&vs[1])), (&b"fgh"[..], &b"de"[..]));
        assert_eq!(raw_answer(&answers[3]), b"ij");

        // A last answer that failed takes its bytes with it.
        s.write(b"abcXYZ");
        let mut answers = vec![marshal(block(0, 3)), failed()];
        s.resolve_batch(&mut answers).unwrap();
        assert_eq!(raw_answer(&answers[0]), b"abc");
        // Nothing is left behind for the next call.
        let mut answers = vec![marshal(block(0, 1))];
        assert!(matches!(s.resolve_batch(&mut answers), Err(NodeFailure::InvalidValue(m)) if m.contains("wrote 0 bytes")));
    }

    /// A packed batch's answers staged as one block: all the call wrote,
    /// or the batch fails; either way the next call starts from nothing.
    #[test]
    fn packed_answers_staged_are_all_the_call_wrote() {
        let s = staging(1 << 20);
        s.write(b"abc");
        s.write(b"de");
        let range = |offset, length| types::StagedRange { offset, length };
        assert_eq!(s.resolve_packed(range(0, 5)).unwrap(), b"abcde");
        s.write(b"abcdef");
        assert!(matches!(s.resolve_packed(range(0, 5)), Err(NodeFailure::InvalidValue(m)) if m.contains("wrote 6 bytes")));
        assert!(matches!(s.resolve_packed(range(0, 1)), Err(NodeFailure::InvalidValue(m)) if m.contains("wrote 0 bytes")));
        let small = staging(4);
        small.write(b"abcdef");
        assert!(matches!(small.resolve_packed(range(0, 6)), Err(NodeFailure::LimitExceeded(_))));
    }

    #[test]
    fn a_batch_whose_bytes_do_not_add_up_fails() {
        let s = staging(1 << 20);
        // Stray bytes: 6 written, 4 named.
        s.write(b"abcdef");
        let mut answers = vec![marshal(block(0, 2)), marshal(block(0, 2))];
        let err = s.resolve_batch(&mut answers).unwrap_err();
        assert!(matches!(&err, NodeFailure::InvalidValue(m) if m.contains("wrote 6 bytes") && m.contains("name 4")), "{err:?}");
        // A block past its own answer's bytes (the second's are 2, from 3).
        s.write(b"abcde");
        let mut answers = vec![marshal(block(0, 3)), Ok(types::Outputs::Many(vec![
            types::Value::PythonMarshal(block(1, 1)),
            types::Value::PythonMarshal(block(0, 1)),
        ]))];
        answers.push(marshal(block(0, 0)));
        assert!(s.resolve_batch(&mut answers).is_ok(), "blocks within their answers: fine");
        s.write(b"abcde");
        let mut answers = vec![marshal(block(0, 3)), marshal(block(1, 2))];
        let err = s.resolve_batch(&mut answers).unwrap_err();
        assert!(matches!(&err, NodeFailure::InvalidValue(m) if m.contains("1..3")), "{err:?}");
        // Bytes with no block in any answer are the node's text: its log.
        s.write(b"hello\n");
        let mut answers = vec![Ok(types::Outputs::None), Ok(types::Outputs::None)];
        s.resolve_batch(&mut answers).unwrap();
    }

    #[test]
    fn one_block_of_everything_takes_the_buffer() {
        let s = staging(1 << 20);
        s.write(&[7; 5000]);
        let mut out = types::Outputs::One(types::Value::PythonMarshal(block(0, 5000)));
        s.resolve(&mut out).unwrap();
        let types::Outputs::One(v) = &out else { panic!() };
        assert_eq!(raw(v), &[7; 5000][..]);
    }

    #[test]
    fn wrong_blocks_fail_the_answer_and_leave_nothing_behind() {
        let s = staging(1 << 20);
        s.write(b"0123456789");
        let mut past = types::Outputs::One(types::Value::PythonMarshal(block(8, 4)));
        let err = s.resolve(&mut past).unwrap_err();
        assert!(matches!(&err, NodeFailure::InvalidValue(m) if m.contains("names staged bytes 8..12 but wrote 10")), "{err:?}");

        s.write(b"0123456789");
        let mut short = types::Outputs::One(types::Value::PythonMarshal(block(0, 4)));
        let err = s.resolve(&mut short).unwrap_err();
        assert!(matches!(&err, NodeFailure::InvalidValue(m) if m.contains("wrote 10 bytes") && m.contains("name 4")), "{err:?}");

        // Near u32::MAX: no overflow in the arithmetic.
        s.write(b"x");
        let mut huge = types::Outputs::One(types::Value::PythonMarshal(block(u32::MAX, u32::MAX)));
        assert!(matches!(s.resolve(&mut huge), Err(NodeFailure::InvalidValue(_))));
        assert_eq!(s.lock().written.len(), 0);
    }

    #[test]
    fn writes_past_the_limit_are_counted_not_kept() {
        let s = staging(100);
        s.write(&[1; 60]);
        s.write(&[1; 60]);
        s.write(&[1; 10]);
        let kept = |s: &Staging| {
            let staged = s.lock();
            (staged.written.len(), staged.overflow)
        };
        assert_eq!(kept(&s), (60, 70));
        let mut out = types::Outputs::One(types::Value::PythonMarshal(block(0, 130)));
        let err = s.resolve(&mut out).unwrap_err();
        assert!(matches!(err, NodeFailure::LimitExceeded(Limit::OutputBytes { limit: 100, .. })), "{err:?}");
        assert_eq!(kept(&s), (0, 0));
    }

    #[test]
    fn without_blocks_the_bytes_are_the_nodes_text_and_off_means_the_log() {
        let s = staging(1 << 20);
        s.write(b"hello\n");
        let mut out = types::Outputs::One(types::Value::Integer(1));
        s.resolve(&mut out).unwrap();
        assert_eq!(s.lock().written.len(), 0);
        s.write(b"before a call\n");
        s.begin_call();
        assert_eq!(s.lock().written.len(), 0);
        s.discard();

        let off = Staging::new(1 << 20, GuestLog::new("t", 4096));
        assert!(!off.write(b"to the log"));
    }
}
