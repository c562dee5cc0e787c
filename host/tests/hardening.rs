//! Hardening: hostile nodes that go for the host's own resources rather
//! than their own: one huge write to stdout, a flood of lines within the
//! write permit, host resources (pollables) leaked until the table is full,
//! loops where no `process` call runs (module top level, constructor,
//! `flush`, destructor, and the `types` and `bake` tools), waits inside a
//! host call on a timer made under a longer deadline, and outputs at the
//! size limit. Each test says what would make it fail.

use std::time::{Duration, Instant};

use crate::common::*;
use nodehost::manifest::{InputSpec, OnError, Pipeline, PipelineNode, Upstream};
use nodehost::{Error, Limit, Node, NodeFailure, NodeSource, NodeSpec, Runtime, SandboxPolicy, Stage, Value};

/// The policy hostile nodes run under: tight, so failures come fast.
fn tight() -> SandboxPolicy {
    SandboxPolicy {
        memory: 96 << 20,
        timeout: Duration::from_millis(400),
        init_timeout: Duration::from_millis(400),
        max_outputs: 1000,
        max_output_bytes: 1 << 20,
        max_log_bytes: 4 << 10,
        ..SandboxPolicy::default()
    }
}

/// Compile (or load from the cache) the Python and hostile Rust components
/// before anything is timed: the first use on a machine compiles them, which
/// takes far longer than any deadline here.
fn warm_up() {
    let engine = engine();
    nodehost::tools::types::node_types(&engine, Some(&example("corpus/calculator.py"))).unwrap();
    nodehost::tools::types::node_types(&engine, Some(&hostile_component())).unwrap();
}

/// input -> hostile (skip on error) and input -> good (add 1), side by side.
fn beside_a_good_node(source: NodeSource, policy: SandboxPolicy) -> Pipeline {
    let hostile = sandboxed("hostile", source, policy);
    let good = NodeSpec::builtin("good", "calculator", Runtime::Wasm).with_params(json(r#"{"operation": "add", "operand": 1}"#));
    Pipeline {
        name: "hardening".into(),
        nodes: vec![
            PipelineNode { spec: hostile, inputs: vec![Upstream::Input], on_error: OnError::Skip, thread: Default::default(), auto: None },
            PipelineNode { spec: good, inputs: vec![Upstream::Input], on_error: OnError::Fail, thread: Default::default(), auto: None },
        ],
        input: InputSpec::Values(vec![]),
        output: Default::default(),
        fuse: Default::default(),
    }
}

/// Run `source` beside a good node on three inputs, within `within`; check
/// the good node gave all its outputs and return the hostile node's
/// failures.
async fn failures_beside_a_good_node(source: NodeSource, policy: SandboxPolicy, within: Duration) -> Vec<Error> {
    warm_up();
    let pipeline = beside_a_good_node(source, policy);
    let started = Instant::now();
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), vec![1.into(), 2.into(), 3.into()]).await.unwrap();
    assert!(started.elapsed() < within, "the run took {:?}", started.elapsed());
    let good: Vec<&Value> = outputs.iter().filter(|o| &*o.node == "good").map(|o| &o.value).collect();
    assert_eq!(good, [&Value::Int(2), &Value::Int(3), &Value::Int(4)], "the good node lost items");
    report.failures
}

/// The trap of each of the three items, checked to be on items 1, 2, 3.
fn trap_messages(failures: &[Error]) -> Vec<String> {
    assert_eq!(failures.len(), 3, "{failures:#?}");
    failures
        .iter()
        .enumerate()
        .map(|(i, e)| match e {
            Error::Node { stage: Stage::Item(n), failure: NodeFailure::Trap { message, .. }, .. } if *n == i as u64 + 1 => {
                message.clone()
            }
            other => panic!("item {}: {other:?}", i + 1),
        })
        .collect()
}

/// Fails if the host took a write past the `check-write` permit (the
/// hostile node then gives an output instead of trapping), or if taking it
/// were slow (16 MiB a line at a time through the log).
#[tokio::test(flavor = "multi_thread")]
async fn one_huge_stdout_write_traps_at_once() {
    let failures = failures_beside_a_good_node(hostile_rust("stdout-16mib"), tight(), Duration::from_secs(5)).await;
    for message in trap_messages(&failures) {
        assert!(message.contains("wrote 16777216 bytes to its stdout at once; check-write permits 65536"), "{message}");
    }
}

/// Two million empty lines, one permit at a time: the call succeeds
/// quickly and the log keeps what its 4 KiB budget allows (682 records of
/// an empty line: 6 bytes each, for the target `stdout`), then one warning.
/// Fails if lines past the budget were still logged, if the budget
/// dropped lines silently, or if dropping cost more than a few hundred
/// nanoseconds a line.
#[test]
fn lines_within_the_permit_are_cut_to_the_log_budget() {
    warm_up();
    let spec = sandboxed("lines", hostile_rust("stdout-lines"), SandboxPolicy { timeout: Duration::from_secs(5), ..tight() });
    let engine = engine();
    let (elapsed, logs) = nodehost::on_node_thread(|| {
        capture_logs(|| {
            let mut node = spec.create(&engine).unwrap();
            let mut out = Vec::new();
            let started = Instant::now();
            node.process(1.into(), &mut out).unwrap();
            let elapsed = started.elapsed();
            assert_eq!(out, [Value::Int(2 << 20)]);
            // The next call starts: the warning about what the first dropped.
            node.process(2.into(), &mut out).unwrap();
            elapsed
        })
    });
    assert!(elapsed < Duration::from_secs(3), "2 Mi lines took {elapsed:?}");
    let kept = logs.lines().filter(|l| l.contains("nodehost::node") && l.contains("from=\"stdout\"")).count();
    assert!((600..=2 * 683).contains(&kept), "{kept} empty lines kept:\n{}", &logs[..logs.len().min(2000)]);
    assert!(
        logs.contains("bytes of log output over the per-call limit of 4096 bytes"),
        "{}",
        &logs[logs.len().saturating_sub(2000)..]
    );
}

/// Fails if the host let a node hold pollables without bound (the node's
/// million subscriptions would succeed and it would give an output), or if
/// the failure did not say what ran out.
#[tokio::test(flavor = "multi_thread")]
async fn leaked_pollables_stop_at_the_resource_cap() {
    let failures = failures_beside_a_good_node(hostile_rust("pollables"), tight(), Duration::from_secs(10)).await;
    for message in trap_messages(&failures) {
        assert!(message.contains("more than 10000 host resources"), "{message}");
        assert!(message.contains("resource table has no free keys"), "{message}");
    }
}

/// Create `spec` on a node thread; the error, and how long it took.
fn create_fails(spec: &NodeSpec) -> (Error, Duration) {
    warm_up();
    let engine = engine();
    nodehost::on_node_thread(|| {
        let started = Instant::now();
        let Err(e) = spec.create(&engine) else { panic!("{} was created", spec.id) };
        (e, started.elapsed())
    })
}

/// Constructors and module top levels that never return: each fails with a
/// timeout at `init_timeout`, at the creating stage. Fails if creation had
/// no deadline (the test would hang) or reported another stage or limit.
#[test]
fn loops_while_creating_a_node_time_out_at_init_timeout() {
    for source in [hostile_rust("spin-create"), hostile_python("loop_at_top_level.py"), hostile_python("loop_in_init.py")] {
        let spec = sandboxed("creating", source, tight());
        let (e, took) = create_fails(&spec);
        let Error::Node { stage: Stage::Create, failure: NodeFailure::Timeout(after), .. } = &e else { panic!("{e:?}") };
        assert_eq!(*after, tight().init_timeout, "{e}");
        assert!(took < Duration::from_secs(2), "{:?}: creating failed only after {took:?}", spec.source);
    }
}

/// A `flush` that loops fails at the flush stage with the call's timeout,
/// and the good node's outputs all arrive. Fails if flush had no deadline
/// (the run would hang) or the failure named another stage.
#[tokio::test(flavor = "multi_thread")]
async fn a_flush_that_loops_times_out_at_the_flush_stage() {
    warm_up();
    // Not interruptible: the hard deadline stops it.
    let policy = SandboxPolicy { interruptible: Some(false), ..tight() };
    let failures = failures_beside_a_good_node(hostile_python("loop_in_flush.py"), policy.clone(), Duration::from_secs(5)).await;
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let Error::Node { stage: Stage::Flush, failure: NodeFailure::Timeout(after), .. } = &failures[0] else {
        panic!("{:?}", failures[0])
    };
    assert_eq!(*after, policy.timeout);
    // By default in the sandbox: interrupted in the loop at the soft deadline.
    let policy = tight();
    let failures = failures_beside_a_good_node(hostile_python("loop_in_flush.py"), policy.clone(), Duration::from_secs(5)).await;
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let Error::Node { stage: Stage::Flush, failure: NodeFailure::Interrupted { after, error }, .. } = &failures[0] else {
        panic!("{:?}", failures[0])
    };
    assert_eq!(*after, policy.soft_deadline());
    let traceback = error.traceback.as_deref().unwrap_or_default();
    assert!(traceback.contains("loop_in_flush.py\", line") && traceback.contains("in flush"), "{traceback}");
}

/// Destructors that loop (a Rust node's `Drop`, a Python node's
/// `cleanup()`) are stopped at the call's timeout: dropping the node
/// returns, says why in the log, and a pipeline of it ends. Fails if the
/// destructor ran without a deadline (the test would hang).
#[tokio::test(flavor = "multi_thread")]
async fn destructors_that_loop_are_stopped_at_the_timeout() {
    warm_up();
    let uninterruptible = SandboxPolicy { interruptible: Some(false), ..tight() };
    // A Python node's cleanup() is interrupted at the soft deadline by
    // default, and stopped at the hard one when it is not interruptible.
    for (source, policy, stopped_at) in [
        (hostile_rust("spin-drop"), tight(), tight().timeout),
        (hostile_python("loop_in_cleanup.py"), tight(), tight().soft_deadline()),
        (hostile_python("loop_in_cleanup.py"), uninterruptible.clone(), uninterruptible.timeout),
    ] {
        let spec = sandboxed("dropping", source.clone(), policy.clone());
        let engine = engine();
        let (took, logs) = nodehost::on_node_thread(|| {
            capture_logs(|| {
                let mut node = spec.create(&engine).unwrap();
                let mut out = Vec::new();
                node.process(5.into(), &mut out).unwrap();
                assert_eq!(out, [Value::Int(5)]);
                let started = Instant::now();
                drop(node);
                started.elapsed()
            })
        });
        assert!(took >= stopped_at && took < Duration::from_secs(2), "{source:?}: dropping took {took:?}");
        // The Python node's cleanup() runs when the node is closed, the
        // Rust node's Drop when it is dropped.
        // (An interrupted cleanup() says so with its traceback.)
        assert!(
            logs.contains("closing the node failed")
                || logs.contains("dropping the node failed")
                || logs.contains("cleanup() failed: DeadlineExceeded"),
            "{source:?}: {logs}"
        );
        // In a pipeline: every item is fine, and the run ends.
        let failures = failures_beside_a_good_node(source, policy, Duration::from_secs(5)).await;
        assert!(failures.is_empty(), "{failures:#?}");
    }
}

/// The hostile module whose top-level code loops.
fn looping_module() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/loop_at_top_level.py")
}

/// `nodehost types` on a module whose top level loops stops at its
/// deadline, at the creating stage. Fails if the tool ran the module
/// without a deadline (the test would hang) or reported the failure as
/// something else.
#[test]
fn types_stops_a_module_that_loops() {
    warm_up();
    let deadline = Duration::from_millis(300);
    let started = Instant::now();
    let e = nodehost::tools::types::node_types_within(&engine(), Some(&looping_module()), deadline).unwrap_err();
    let Error::Node { stage: Stage::Create, failure: NodeFailure::Timeout(after), .. } = &e else { panic!("{e:?}") };
    assert_eq!(*after, deadline);
    assert!(started.elapsed() < Duration::from_secs(2), "types took {:?}", started.elapsed());
}

/// `nodehost bake` on a module whose top level loops stops at its deadline,
/// at the step that loads the module, and writes nothing. Fails if baking
/// ran the module without a deadline (the test would hang) or reported the
/// failure as something else. The slowest test here: baking compiles the
/// Python guest unoptimized and imports the preloaded modules first, about
/// 35 s on two cores, before the module's code runs.
#[test]
fn bake_stops_a_module_that_loops() {
    let deadline = Duration::from_millis(300);
    let scratch = scratch_dir("bake-loop");
    let output = scratch.path().join("never.wasm");
    let e = nodehost::tools::bake::bake_within(&engine(), &looping_module(), &output, deadline).unwrap_err();
    let Error::Snapshot { step, source } = &e else { panic!("{e:?}") };
    assert_eq!(*step, "loading the node module");
    let failure = source.downcast_ref::<NodeFailure>().unwrap_or_else(|| panic!("{source:?}"));
    assert!(matches!(failure, NodeFailure::Timeout(after) if *after == deadline), "{failure:?}");
    assert!(!output.exists(), "a component was written");
}

/// The node thread's view of one call: its result and how long it took.
fn timed_call(node: &mut dyn Node, input: Value) -> (Result<Vec<Value>, NodeFailure>, Duration) {
    let mut out = Vec::new();
    let started = Instant::now();
    let result = node.process(input, &mut out).map(|()| out);
    (result, started.elapsed())
}

/// Waits inside a host call end at the call's hard deadline: a sleep past
/// it (`sleep`, 10 s) at once, and a wait on a timer the node subscribed to
/// while it was created, under the longer `init_timeout`
/// (`sleep-from-create`, 4 s), at the call's own 400 ms. Fails if the host
/// waited for the timer (the call would take 4 s and give "woke up").
#[test]
fn waits_in_host_calls_end_at_the_calls_deadline() {
    warm_up();
    let engine = engine();
    let policy = SandboxPolicy { init_timeout: Duration::from_secs(5), ..tight() };
    for (kind, at_least) in [("sleep", Duration::ZERO), ("sleep-from-create", policy.timeout)] {
        let spec = sandboxed(kind, hostile_rust(kind), policy.clone());
        let (result, took) = nodehost::on_node_thread(|| {
            let mut node = spec.create(&engine).unwrap();
            timed_call(node.as_mut(), Value::Null)
        });
        assert!(matches!(result, Err(NodeFailure::Timeout(t)) if t == policy.timeout), "{kind}: {result:?}");
        assert!(took >= at_least && took < policy.timeout + Duration::from_millis(600), "{kind}: stopped after {took:?}");
    }
}

/// A node asleep in the host (a 4 s sleep under a 10 s timeout) is
/// cancelled from another thread within 100 ms or so. Fails if the wait in
/// the host did not look at the cancel handle (the call would take 4 s).
#[test]
fn a_node_asleep_in_the_host_is_cancelled_promptly() {
    warm_up();
    let engine = engine();
    let spec = sandboxed("nap", hostile_rust("nap"), SandboxPolicy { timeout: Duration::from_secs(10), ..tight() });
    let (result, took) = nodehost::on_node_thread(|| {
        let mut node = spec.create(&engine).unwrap();
        let cancel = node.cancel_handle().unwrap();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            cancel.cancel();
        });
        let call = timed_call(node.as_mut(), Value::Int(4000));
        canceller.join().unwrap();
        call
    });
    assert!(matches!(result, Err(NodeFailure::Cancelled)), "{result:?}");
    assert!(took < Duration::from_millis(800), "cancelled only after {took:?}");
}

/// A `scripted` hostile node's script for one text output of `len` bytes
/// (`len` < 2^24): one output (1), a text (1), of 24-bit size (24), the
/// size little-endian.
fn one_text(len: usize) -> Value {
    assert!(len < 1 << 24);
    Value::Bytes(vec![1, 1, 24, len as u8, (len >> 8) as u8, (len >> 16) as u8])
}

/// Resident and peak resident memory of this process, in bytes: the
/// second field of `/proc/self/statm` (pages) and `VmHWM` of
/// `/proc/self/status`.
fn rss() -> (u64, u64) {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap();
    let hwm_kib: u64 = hwm.trim().trim_end_matches("kB").trim().parse().unwrap();
    (pages * page, hwm_kib << 10)
}

/// Outputs just under and just over `max_output_bytes` (4 MiB), 20 times
/// each: the one under arrives whole, the one over is refused as
/// `Limit::OutputBytes`, and the host's memory does not grow with the
/// calls. Run in a child process, so other tests' memory is not counted.
///
/// The bound: after a warm-up call of each (which touches the guest memory
/// the strings use and the allocator's arenas), the host holds at most the
/// one call's outputs while it checks them, and nothing after, so 40 more
/// calls may move resident memory by the allocator's slack and one output
/// kept in a reused arena, not by 20 refused outputs (80 MiB); 24 MiB
/// (6 outputs) is the bound. The peak during those calls is bounded the
/// same way: one output lifted plus one decoded, with the same slack, is
/// under 24 MiB over the resident memory at the start. Fails if refused
/// outputs were kept, if one past the limit got through, or if the host
/// copied an output more than a couple of times at once.
#[test]
fn outputs_at_the_size_limit_keep_host_memory_bounded() {
    if !in_child_process(module_path!(), "outputs_at_the_size_limit_keep_host_memory_bounded", &[]) {
        return;
    }
    let limit: u64 = 4 << 20;
    let policy = SandboxPolicy { memory: 64 << 20, max_outputs: 4, max_output_bytes: limit, ..tight() };
    let slot = size_of::<Value>();
    let under = usize::try_from(limit).unwrap() - slot;
    let spec = sandboxed("scripted", hostile_rust("scripted"), policy);
    let engine = engine();
    nodehost::on_node_thread(|| {
        let mut node = spec.create(&engine).unwrap();
        let mut call = |len: usize| {
            let mut out = Vec::new();
            node.process(one_text(len), &mut out).map(|()| out)
        };
        let check = |len: usize, result: Result<Vec<Value>, NodeFailure>| {
            if len == under {
                let out = result.unwrap();
                assert!(matches!(out.as_slice(), [Value::Str(s)] if s.len() == under), "{} outputs", out.len());
            } else {
                let Err(e) = result else { panic!("an output of {len} bytes got through") };
                assert!(
                    matches!(&e, NodeFailure::LimitExceeded(Limit::OutputBytes { limit: l, type_name: "str" }) if *l == limit),
                    "{e:?}"
                );
            }
        };
        for len in [under, under + 1] {
            check(len, call(len));
        }
        // Reset the peak (`5` to clear_refs) so VmHWM counts from here.
        std::fs::write("/proc/self/clear_refs", "5").unwrap();
        let (start, _) = rss();
        for _ in 0..20 {
            for len in [under, under + 1] {
                check(len, call(len));
            }
        }
        let (end, peak) = rss();
        let bound = 24 << 20;
        assert!(end.saturating_sub(start) < bound, "resident memory grew by {} MiB", (end - start) >> 20);
        assert!(peak.saturating_sub(start) < bound, "resident memory peaked {} MiB over the start", (peak - start) >> 20);
    });
}
