//! Creates a node that traps, over and over, printing resident memory: for
//! chasing leaks in instance recycling. `trap_rss <rounds> [leak|unreachable|echo]`.

use nodehost::{NodeSource, NodeSpec, Runtime, SandboxPolicy, Value, WasmEngine};

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let kind = args.get(2).cloned().unwrap_or_else(|| "unreachable".into());
    let path = std::env::temp_dir().join("trap_rss_hostile.wasm");
    std::fs::write(&path, nodehost_artifacts::HOSTILE_NODES.bytes).unwrap();
    let spec = NodeSpec {
        id: "trap".into(),
        source: NodeSource::Component { path, node_type: kind },
        runtime: Runtime::Wasm,
        params: Value::Null,
        policy: SandboxPolicy { memory: 16 << 20, ..SandboxPolicy::default() },
    };
    let engine = WasmEngine::shared().unwrap();
    nodehost::on_node_thread(|| {
        for round in 0..rounds {
            let mut node = spec.create(&engine).unwrap();
            for _ in 0..8 {
                if node.process(Value::Null, &mut Vec::new()).is_err() {
                    break;
                }
            }
            drop(node);
            if round % (rounds / 10).max(1) == 0 {
                eprintln!("round {round}: {} MiB", rss_mib());
            }
        }
        eprintln!("end: {} MiB", rss_mib());
    });
}
