//! A hostile Rust component's outputs driven by the fuzzer: counts, sizes,
//! nesting, packed lists, raw value tables (well-formed or not), audio
//! frames, error texts of any size, and traps, all sent back through the
//! host. The host must answer each with outputs within the policy's limits
//! or a typed failure of the node, and never panic; a lost instance is made
//! afresh.

use std::cell::RefCell;
use std::sync::Arc;

use nodehost::{EngineConfig, Node, NodeFailure, NodeSource, NodeSpec, Runtime, SandboxPolicy, Value, WasmEngine};

/// The engine, how to make the node afresh, and the node.
type Scripted = (Arc<WasmEngine>, NodeSpec, Box<dyn Node>);

thread_local! {
    static STATE: RefCell<Option<Scripted>> = const { RefCell::new(None) };
}

fn policy() -> SandboxPolicy {
    SandboxPolicy {
        memory: 128 << 20,
        max_outputs: 1000,
        max_output_bytes: 1 << 20,
        timeout: std::time::Duration::from_secs(5),
        ..SandboxPolicy::default()
    }
}

fn setup() -> Scripted {
    let engine = WasmEngine::new(EngineConfig { max_wasm_stack: 1 << 20, ..EngineConfig::default() }).expect("engine");
    let dir = std::env::temp_dir().join(format!("nodehost-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("hostile.wasm");
    std::fs::write(&path, nodehost_artifacts::HOSTILE_NODES.bytes).expect("hostile component");
    let spec = NodeSpec {
        id: "scripted".into(),
        source: NodeSource::Component { path, node_type: "scripted".into() },
        runtime: Runtime::Wasm,
        params: Value::Null,
        policy: policy(),
    };
    let node = spec.create(&engine).expect("hostile node");
    (engine, spec, node)
}

/// One input: the whole check.
pub fn run(script: &[u8]) {
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        let (engine, spec, node) = state.get_or_insert_with(setup);
        let mut out = Vec::new();
        match node.process(Value::Bytes(script.to_vec()), &mut out) {
            Ok(()) => {
                let limits = policy();
                assert!(out.len() <= limits.max_outputs as usize, "{} outputs passed the cap", out.len());
            }
            Err(failure) => {
                assert!(
                    !matches!(failure, NodeFailure::Panicked(_) | NodeFailure::Setup(_) | NodeFailure::InterfaceMismatch(_)),
                    "host-side failure: {failure}"
                );
                assert!(out.is_empty(), "a failed call left outputs behind");
                if let Some(e) = failure.guest() {
                    assert!(e.message.len() <= nodehost::error::MAX_GUEST_TEXT + 64, "unbounded error text kept");
                }
                if failure.is_fatal() {
                    *node = spec.create(engine).expect("a fresh hostile node");
                }
            }
        }
    });
}
