//! What making a sandboxed Python node interruptible costs: each kernel's
//! call time with the soft-deadline hook off and on, interleaved, in one run.

use std::time::{Duration, Instant};

use nodehost::{Runtime, SandboxPolicy};
use nodehost_benches::create;
use nodehost_benches::kernels::KERNELS;

fn main() {
    let rounds: u32 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20);
    nodehost::on_node_thread(|| {
        println!("{:<14} {:>12} {:>12} {:>8}", "kernel", "off", "on", "cost");
        for k in KERNELS {
            let policy = |on| SandboxPolicy { interruptible: Some(on), timeout: Duration::from_secs(60), ..SandboxPolicy::default() };
            let mut off = create(&k.spec(Runtime::Wasm).with_policy(policy(false)));
            let mut on = create(&k.spec(Runtime::Wasm).with_policy(policy(true)));
            let mut out = Vec::new();
            let (mut t_off, mut t_on) = (Duration::MAX, Duration::MAX);
            for _ in 0..rounds {
                // Best of each, interleaved so machine noise hits both alike.
                let t = Instant::now();
                off.process(k.input(), &mut out).unwrap();
                t_off = t_off.min(t.elapsed());
                let t = Instant::now();
                on.process(k.input(), &mut out).unwrap();
                t_on = t_on.min(t.elapsed());
            }
            let cost = t_on.as_secs_f64() / t_off.as_secs_f64() - 1.0;
            println!("{:<14} {:>12.2?} {:>12.2?} {:>7.1}%", k.name, t_off, t_on, cost * 100.0);
        }
    });
}
