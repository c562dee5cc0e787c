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
    AudioFrame, ErrorKind, MapEntry, NodeError, NodeTypeInfo, Outputs, Settings, Value, ValueNode,
};

/// Every misbehaviour, by node type name.
const KINDS: &[(&str, &str)] = &[
    ("echo", "gives its input back (a well-behaved control)"),
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
    ("sleep", "sleeps for ten seconds"),
    ("env", "counts its environment variables"),
    ("files", "lists the root directory"),
];

struct Hostile;

struct Misbehaving {
    kind: String,
    kept: RefCell<Vec<Vec<u8>>>,
}

impl Guest for Hostile {
    type Node = Misbehaving;

    fn configure(_settings: Settings) {}

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
        Ok(NodeHandle::new(Misbehaving { kind: type_name, kept: RefCell::new(Vec::new()) }))
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
    fn process(&self, input: Value) -> Result<Outputs, NodeError> {
        let one = |v| Ok(Outputs::One(v));
        match self.kind.as_str() {
            "echo" => one(input),
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
            other => Err(error(ErrorKind::Internal, format!("unknown kind {other}"))),
        }
    }

    fn flush(&self) -> Result<Outputs, NodeError> {
        Ok(Outputs::None)
    }
}

export!(Hostile);
