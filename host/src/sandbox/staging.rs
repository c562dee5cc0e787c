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
        let mut staged = self.lock();
        if !staged.written.is_empty() || staged.overflow > 0 {
            to_log(&mut staged, &self.log);
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
