//! Rust nodes that misbehave on purpose, for the sandbox tests. They are
//! written against the raw WIT bindings (not the SDK) so they can also send
//! what the SDK would never produce: malformed value tables, inconsistent
//! buffers. Built only for `wasm32`; the node type picks the misbehaviour.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::hint::black_box;

wit_bindgen::generate!({
    path: "../../wit",
    world: "node-component",
});

use exports::nodehost::node::runtime::{Guest, GuestNode, Node as NodeHandle};
use nodehost::node::types::{
    AudioFrame, ErrorKind, MapEntry, NodeError, NodeTypeInfo, NumberKind, Outputs, PackedAnswers, PackedAudioFrame, PackedBytes, PackedNumArray,
    Settings, StagedRange, Value, ValueForms, ValueNode,
};

/// Every misbehaviour, by node type name.
const KINDS: &[(&str, &str)] = &[
    ("echo", "gives its input back (a well-behaved control)"),
    ("batch-unanswered", "returns from process-many without answering its input"),
    ("batch-extra", "asks for another input after its process-many batch is over"),
    ("panic", "panics"),
    ("unreachable", "executes `unreachable`"),
    ("leak", "keeps 4 MiB more on every call"),
    ("big-alloc", "allocates 1 GiB at once"),
    ("spin", "loops forever"),
    ("recurse", "recurses without end"),
    ("flood", "gives a million outputs for one input"),
    ("huge", "gives one 32 MiB string"),
    ("print-flood", "prints a hundred thousand lines"),
    ("bad-table", "sends a value table with a cycle"),
    ("bad-audio", "sends an audio frame whose samples do not fit its channels"),
    ("dup-keys", "sends a map with a repeated key"),
    ("marshal-bomb", "sends 300 bytes of python-marshal data that would copy out to 2^60 items"),
    ("marshal-cycle", "sends python-marshal data for a list that contains itself"),
    ("marshal-bomb-short", "sends the marshal-bomb data as a one-python-marshal answer"),
    ("marshal-cycle-short", "sends the marshal-cycle data as a one-python-marshal answer"),
    ("sleep", "sleeps for ten seconds"),
    ("env", "counts its environment variables"),
    ("files", "lists the root directory"),
    ("stdout-16mib", "writes 16 MiB of newlines to stdout in one `output-stream.write`"),
    ("stdout-lines", "writes 2 Mi empty lines to stdout, one check-write permit at a time"),
    ("pollables", "subscribes to the monotonic clock over and over and keeps every pollable"),
    ("spin-create", "loops forever in its constructor"),
    ("spin-drop", "gives its input back, and loops forever in its destructor"),
    ("sleep-from-create", "subscribes to a 4 s timer while created, and blocks on it when called"),
    ("nap", "sleeps for as many milliseconds as its input says"),
    ("scripted", "gives what its input bytes say: counts, sizes, packed lists, raw tables, errors (for fuzzing)"),
    ("staged", "stages 1000 bytes of marshal data and an audio frame through stdout (a well-behaved control)"),
    ("staged-beyond", "writes 10 bytes to stdout and names 1 MiB of them as staged"),
    ("staged-stray", "writes 20 bytes to stdout and names 10 of them as staged"),
    ("staged-flood", "writes 128 MiB to stdout, a permit at a time, and names it all as staged"),
];

struct Hostile;

struct Misbehaving {
    kind: String,
    kept: RefCell<Vec<Vec<u8>>>,
    /// A timer subscribed to while the node was created (`sleep-from-create`).
    timer: Option<wasip2::io::poll::Pollable>,
}

impl Guest for Hostile {
    type Node = Misbehaving;

    fn configure(_settings: Settings) -> ValueForms {
        // Every form, so `echo` sends back what the host encoded in each
        // (and the fuzzer's round trip covers them), and staged bytes, so
        // the kinds that write to stdout go through staging. Not packed
        // batches: its batches go through `process-batch`, which the kinds
        // below break on purpose (the host's packed reader is fuzzed on
        // its own).
        ValueForms { python_marshal: true, packed_buffers: true, staged_bytes: true, packed_batches: false }
    }

    fn prepare(_modules: Vec<String>) -> Result<(), NodeError> {
        Ok(())
    }

    fn node_types() -> Vec<NodeTypeInfo> {
        KINDS
            .iter()
            .map(|(name, description)| NodeTypeInfo {
                name: name.to_string(),
                description: description.to_string(),
                params: Vec::new(),
                streaming: false,
            })
            .collect()
    }

    fn load_module(_name: String, _source: String) -> Result<Vec<NodeTypeInfo>, NodeError> {
        Err(error(ErrorKind::Unsupported, "no source here".into()))
    }

    fn create(type_name: String, _params: Value) -> Result<NodeHandle, NodeError> {
        if !KINDS.iter().any(|(k, _)| *k == type_name) {
            return Err(error(ErrorKind::UnknownType, format!("no node type '{type_name}'")));
        }
        if type_name == "spin-create" {
            loop {
                black_box(());
            }
        }
        // Under the creation deadline (the tests give it 5 s), a 4 s timer
        // is allowed; it must not outlive the deadline of a later call.
        let timer = (type_name == "sleep-from-create")
            .then(|| wasip2::clocks::monotonic_clock::subscribe_duration(4_000_000_000));
        Ok(NodeHandle::new(Misbehaving { kind: type_name, kept: RefCell::new(Vec::new()), timer }))
    }
}

fn error(kind: ErrorKind, message: String) -> NodeError {
    NodeError { kind, message, exception_type: None, traceback: None }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let local = black_box([depth; 16]);
    recurse(local[3] + 1) + local[7]
}

impl GuestNode for Misbehaving {
    fn close(&self) {
        // What Drop does (spin-drop's loop included) runs at the drop.
    }

    fn process_many(&self, first: Value) {
        // As the SDK does it, but for the kinds that break the batch
        // protocol on purpose.
        let mut input = first;
        loop {
            match self.kind.as_str() {
                // Returns without answering its input.
                "batch-unanswered" => return,
                // Answers, then asks again after the batch is over.
                "batch-extra" => {
                    let answer = self.process(input);
                    while nodehost::node::host::next_input(answer.as_ref()).is_some() {}
                    nodehost::node::host::next_input(answer.as_ref());
                    return;
                }
                _ => {}
            }
            let answer = self.process(input);
            match nodehost::node::host::next_input(answer.as_ref()) {
                Some(next) => input = next,
                None => return,
            }
        }
    }

    fn process_batch(&self, inputs: Vec<Value>) -> Vec<Result<Outputs, NodeError>> {
        match self.kind.as_str() {
            // Answers none of its inputs.
            "batch-unanswered" => Vec::new(),
            // Answers one input more than it was given.
            "batch-extra" => {
                let mut answers: Vec<_> = inputs.into_iter().map(|input| self.process(input)).collect();
                answers.push(Ok(Outputs::None));
                answers
            }
            _ => {
                let mut answers = Vec::new();
                for input in inputs {
                    let answer = self.process(input);
                    let failed = answer.is_err();
                    answers.push(answer);
                    if failed {
                        break;
                    }
                }
                answers
            }
        }
    }

    fn process_packed(&self, _inputs: Vec<u8>) -> PackedAnswers {
        // Never asked (see `configure`).
        PackedAnswers { passed: PackedBytes::Raw(Vec::new()), failure: Some(error(ErrorKind::Unsupported, "no packed batches here".into())) }
    }

    fn process(&self, input: Value) -> Result<Outputs, NodeError> {
        let one = |v| Ok(Outputs::One(v));
        match self.kind.as_str() {
            "echo" | "spin-drop" | "batch-unanswered" | "batch-extra" => one(input),
            "panic" => panic!("this node panics on purpose"),
            "unreachable" => core::arch::wasm32::unreachable(),
            "leak" => {
                let mut block = vec![0u8; 4 << 20];
                block.iter_mut().step_by(4096).for_each(|b| *b = 1);
                self.kept.borrow_mut().push(block);
                one(Value::Integer(self.kept.borrow().len() as i64))
            }
            "big-alloc" => {
                let v = black_box(vec![1u8; 1 << 30]);
                one(Value::Integer(v.len() as i64))
            }
            "spin" => loop {
                black_box(());
            },
            "recurse" => one(Value::Integer(recurse(0) as i64)),
            "flood" => Ok(Outputs::Many(vec![Value::Null; 1_000_000])),
            "huge" => one(Value::Text("x".repeat(32 << 20))),
            "print-flood" => {
                for i in 0..100_000 {
                    println!("flood line {i}");
                }
                one(Value::Null)
            }
            "bad-table" => one(Value::Nested(vec![ValueNode::List(vec![0])])),
            "bad-audio" => one(Value::Audio(AudioFrame { samples: vec![0.0; 3], sample_rate: 8000, channels: 2 })),
            "marshal-bomb" => one(Value::PythonMarshal(PackedBytes::Raw(marshal_doubling(60)))),
            "marshal-cycle" => one(Value::PythonMarshal(PackedBytes::Latin1("\u{db}\u{1}\0\0\0r\0\0\0\0".into()))),
            // The same two in the short forms.
            "marshal-bomb-short" => {
                Ok(Outputs::OnePythonMarshal(marshal_doubling(60).into_iter().map(char::from).collect()))
            }
            "marshal-cycle-short" => Ok(Outputs::OnePythonMarshal("\u{db}\u{1}\0\0\0r\0\0\0\0".into())),
            "dup-keys" => one(Value::Nested(vec![
                ValueNode::Map(vec![
                    MapEntry { key: "a".into(), value: 1 },
                    MapEntry { key: "a".into(), value: 2 },
                ]),
                ValueNode::Null,
                ValueNode::Null,
            ])),
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(10));
                one(Value::Text("woke up".into()))
            }
            "env" => one(Value::Integer(std::env::vars().count() as i64)),
            "files" => one(Value::Text(match std::fs::read_dir("/") {
                Ok(entries) => format!("listed {} entries", entries.count()),
                Err(e) => format!("refused: {e}"),
            })),
            "stdout-16mib" => {
                let stdout = wasip2::cli::stdout::get_stdout();
                let written = stdout.write(&vec![b'\n'; 16 << 20]);
                one(Value::Text(format!("the host took 16 MiB in one write: {written:?}")))
            }
            "stdout-lines" => {
                let stdout = wasip2::cli::stdout::get_stdout();
                let failed = |e| error(ErrorKind::Internal, format!("{e:?}"));
                let mut total = 0u64;
                while total < 2 << 20 {
                    let permit = stdout.check_write().map_err(failed)?;
                    let chunk = vec![b'\n'; permit.min(64 << 10) as usize];
                    stdout.write(&chunk).map_err(failed)?;
                    total += chunk.len() as u64;
                }
                one(Value::Integer(total as i64))
            }
            "pollables" => {
                let mut count = 0i64;
                for _ in 0..1_000_000 {
                    std::mem::forget(wasip2::clocks::monotonic_clock::subscribe_duration(0));
                    count += 1;
                }
                one(Value::Integer(count))
            }
            "sleep-from-create" => {
                if let Some(timer) = &self.timer {
                    timer.block();
                }
                one(Value::Text("woke up".into()))
            }
            "nap" => {
                let millis = match input {
                    Value::Integer(ms) => ms.max(0) as u64,
                    _ => 0,
                };
                std::thread::sleep(std::time::Duration::from_millis(millis));
                one(Value::Integer(millis as i64))
            }
            "staged" => {
                // marshal's `s` (bytes): 1000 bytes above 0x7f.
                let mut marshal = vec![b's'];
                marshal.extend_from_slice(&1000u32.to_le_bytes());
                marshal.extend_from_slice(&[0xa5; 1000]);
                let samples: Vec<u8> = [0.5f32, -0.25, 1.0, 0.0].iter().flat_map(|x| x.to_le_bytes()).collect();
                stage(&marshal);
                stage(&samples);
                let block = |offset: usize, length: usize| PackedBytes::Staged(StagedRange { offset: offset as u32, length: length as u32 });
                Ok(Outputs::Many(vec![
                    Value::PackedAudio(PackedAudioFrame { samples: block(marshal.len(), samples.len()), sample_rate: 8000, channels: 2 }),
                    Value::PythonMarshal(block(0, marshal.len())),
                ]))
            }
            "staged-beyond" => {
                stage(&[0x80; 10]);
                one(Value::PythonMarshal(PackedBytes::Staged(StagedRange { offset: 0, length: 1 << 20 })))
            }
            "staged-stray" => {
                stage(&[b'x'; 20]);
                one(Value::PythonMarshal(PackedBytes::Staged(StagedRange { offset: 0, length: 10 })))
            }
            "staged-flood" => {
                let chunk = vec![0x80u8; 64 << 10];
                for _ in 0..(128 << 20) / chunk.len() {
                    stage(&chunk);
                }
                one(Value::PythonMarshal(PackedBytes::Staged(StagedRange { offset: 0, length: 128 << 20 })))
            }
            "scripted" => match input {
                Value::Bytes(script) => scripted(&script),
                _ => Err(error(ErrorKind::InvalidInput, "scripted takes bytes".into())),
            },
            other => Err(error(ErrorKind::Internal, format!("unknown kind {other}"))),
        }
    }

    fn flush(&self) -> Result<Outputs, NodeError> {
        Ok(Outputs::None)
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        if self.kind == "spin-drop" {
            loop {
                black_box(());
            }
        }
    }
}

/// Write `bytes` to stdout, a `check-write` permit at a time.
fn stage(mut bytes: &[u8]) {
    let stdout = wasip2::cli::stdout::get_stdout();
    while !bytes.is_empty() {
        let permit = stdout.check_write().expect("check-write") as usize;
        let (now, rest) = bytes.split_at(permit.clamp(1, bytes.len()));
        stdout.write(now).expect("write");
        bytes = rest;
    }
}

/// Reads numbers from a fuzzer's script, zero once it runs out.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }

    /// A size up to `2^(bits)`, skewed small: most scripts ask for little,
    /// some for a lot.
    fn size(&mut self, bits: u32) -> usize {
        let shift = u32::from(self.byte()) % (bits + 1);
        let low = usize::from(self.byte()) | usize::from(self.byte()) << 8 | usize::from(self.byte()) << 16;
        low & ((1usize << shift) - 1)
    }

    /// A raw value table entry, with child indices as the script says
    /// (forward, backward, out of range or repeated).
    fn node(&mut self, len: usize) -> ValueNode {
        let mut index = |s: &mut Self| u32::from(s.byte()) % (len as u32 + 2);
        match self.byte() % 9 {
            0 => ValueNode::Null,
            1 => ValueNode::Integer(i64::from(self.byte()) - 128),
            2 => ValueNode::Text("t".repeat(self.size(12))),
            3 => ValueNode::IntList(vec![7; self.size(16)]),
            4 => ValueNode::FloatList(vec![0.5; self.size(16)]),
            5 => {
                let n = self.size(4);
                ValueNode::List((0..n).map(|_| index(self)).collect())
            }
            6 => {
                let n = self.size(4);
                ValueNode::Map((0..n).map(|i| MapEntry { key: format!("k{}", i % 3), value: index(self) }).collect())
            }
            7 => ValueNode::Audio(AudioFrame {
                samples: vec![0.25; self.size(12)],
                sample_rate: u32::from(self.byte()) * 1000,
                channels: u16::from(self.byte() % 4),
            }),
            _ => ValueNode::Bytes(vec![1; self.size(12)]),
        }
    }

    fn value(&mut self) -> Value {
        match self.byte() % 13 {
            0 => Value::Null,
            1 => Value::Text("x".repeat(self.size(26))),
            2 => Value::Bytes(vec![0; self.size(26)]),
            3 => Value::Nested(vec![ValueNode::IntList(vec![1; self.size(24)])]),
            4 => Value::Nested(vec![ValueNode::FloatList(vec![1.0; self.size(24)])]),
            5 => {
                let len = self.size(6).max(1);
                Value::Nested((0..len).map(|_| self.node(len)).collect())
            }
            6 => {
                // A chain of lists, possibly past the depth limit.
                let depth = self.size(9).max(1);
                Value::Nested(
                    (0..depth).map(|i| ValueNode::List(if i + 1 < depth { vec![i as u32 + 1] } else { vec![] })).collect(),
                )
            }
            7 => Value::Audio(AudioFrame {
                samples: vec![0.0; self.size(22)],
                sample_rate: 16_000,
                channels: u16::from(self.byte() % 3),
            }),
            8 => {
                // Marshal data as the script says: mostly malformed.
                let n = self.size(10);
                let bytes: Vec<u8> = (0..n).map(|_| self.byte()).collect();
                let form = self.byte() % 3;
                if form == 0 {
                    Value::PythonMarshal(PackedBytes::Raw(bytes))
                } else if form == 1 {
                    Value::PythonMarshalRaw(bytes)
                } else {
                    // Some chars above U+00FF too.
                    Value::PythonMarshal(PackedBytes::Latin1(bytes.iter().map(|&b| char::from_u32(u32::from(b) * 3).unwrap_or('x')).collect()))
                }
            }
            9 => Value::PythonMarshal(PackedBytes::Raw(marshal_doubling(u32::from(self.byte() % 64)))),
            10 => Value::PackedAudio(PackedAudioFrame {
                samples: PackedBytes::Raw(vec![0; self.size(22)]),
                sample_rate: 16_000,
                channels: u16::from(self.byte() % 3),
            }),
            11 => {
                // Staged bytes: some written to stdout, a block naming any
                // range of them (or past them).
                stage(&vec![0x80; self.size(16)]);
                let (offset, length) = (self.size(16) as u32, self.size(16) as u32);
                Value::PackedAudio(PackedAudioFrame {
                    samples: PackedBytes::Staged(StagedRange { offset, length }),
                    sample_rate: 16_000,
                    channels: 1,
                })
            }
            _ => Value::PackedArray(PackedNumArray {
                kind: [NumberKind::F32, NumberKind::F64, NumberKind::I64][usize::from(self.byte() % 3)],
                data: PackedBytes::Latin1("\0".repeat(self.size(20))),
                shape: vec![u32::from(self.byte())],
            }),
        }
    }
}

/// Marshal data for `levels` nested lists, each holding the next one twice
/// (the second time as a reference): a few hundred bytes that would copy
/// out to 2^levels items.
fn marshal_doubling(levels: u32) -> Vec<u8> {
    let mut data = b"\xdb\x02\x00\x00\x00".repeat(levels as usize);
    data.extend_from_slice(b"NN");
    for level in (0..levels.saturating_sub(1)).rev() {
        data.push(b'r');
        data.extend_from_slice(&(level + 1).to_le_bytes());
    }
    data
}

/// What a fuzzer's script asks for: outputs of any count, size and shape
/// (well-formed or not), an error with text of any size, or a trap.
fn scripted(script: &[u8]) -> Result<Outputs, NodeError> {
    let mut s = Script(script);
    match s.byte() % 6 {
        0 => Ok(Outputs::None),
        1 => Ok(match s.value() {
            // Latin-1 marshal text, half the time in the short form.
            Value::PythonMarshal(PackedBytes::Latin1(text)) if s.byte() % 2 == 0 => Outputs::OnePythonMarshal(text),
            v => Outputs::One(v),
        }),
        2 => {
            let n = s.size(20);
            let v = s.value();
            Ok(Outputs::Many(vec![v; n]))
        }
        3 => {
            let n = s.size(5);
            Ok(Outputs::Many((0..n).map(|_| s.value()).collect()))
        }
        4 => Err(NodeError {
            kind: ErrorKind::Raised,
            message: "m".repeat(s.size(26)),
            exception_type: Some("E".repeat(s.size(12))),
            traceback: Some("t\n".repeat(s.size(24))),
        }),
        _ => core::arch::wasm32::unreachable(),
    }
}

export!(Hostile);
