//! Batches across the sandbox boundary (`process-many`): many inputs in one
//! call, each input still a call of its own as far as the policy goes. Each
//! test drives a real sandboxed node through `Node::process_many` and checks
//! what each input got: its outputs, or exactly its failure; inputs after a
//! failure are left for the caller, none lost.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::*;
use nodehost::{ItemAnswer, Limit, Node, NodeFailure, NodeSource, NodeSpec, Runtime, SandboxPolicy, Value, on_node_thread};

/// A sandboxed Python node of class `Node` with this source.
fn python_node(id: &str, source: &str, policy: SandboxPolicy) -> NodeSpec {
    let source = NodeSource::Python { file: PathBuf::from(format!("{id}.py")), source: source.into(), class: "Node".into(), venv: None };
    sandboxed(id, source, policy)
}

/// Everything one `process_many` call did: the answers, the outputs, and
/// the inputs it left.
struct Batch {
    answers: Vec<ItemAnswer>,
    out: Vec<Value>,
    left: VecDeque<Value>,
}

impl Batch {
    /// Each answer's outputs, or its failure.
    fn per_input(&self) -> Vec<Result<Vec<Value>, &NodeFailure>> {
        let mut outputs = self.out.iter();
        self.answers
            .iter()
            .map(|a| match &a.result {
                Ok(()) => Ok(outputs.by_ref().take(a.outputs).cloned().collect()),
                Err(f) => Err(&**f),
            })
            .collect()
    }
}

fn process_many(node: &mut dyn Node, inputs: Vec<Value>, budget: Duration) -> Batch {
    let mut left: VecDeque<Value> = inputs.into();
    let (mut out, mut answers) = (Vec::new(), Vec::new());
    node.process_many(&mut left, budget, &mut out, &mut answers);
    Batch { answers, out, left }
}

const LONG: Duration = Duration::from_secs(60);

fn ints(range: std::ops::Range<i64>) -> Vec<Value> {
    range.map(Value::Int).collect()
}

/// A batch gives exactly what `process` gives input by input, on a Rust
/// and on a Python node, and takes every input when nothing fails.
#[test]
fn a_batch_answers_each_input_as_process_would() {
    let rust = NodeSpec {
        id: "double".into(),
        source: NodeSource::Builtin { node_type: "calculator".into() },
        runtime: Runtime::Wasm,
        params: json(r#"{"operation": "multiply", "operand": 2}"#),
        policy: SandboxPolicy::default(),
    };
    let python = python_node(
        "pairs",
        "class Node:\n    def __init__(self):\n        self.seen = 0\n    def process(self, x):\n        self.seen += 1\n        if x % 3 == 0:\n            return None\n        yield x\n        yield [x, self.seen]\n",
        SandboxPolicy::default(),
    );
    on_node_thread(|| {
        for spec in [rust, python] {
            let engine = engine();
            let mut one_by_one = spec.create(&engine).unwrap();
            let mut expected = Vec::new();
            for input in ints(0..200) {
                let mut out = Vec::new();
                one_by_one.process(input, &mut out).unwrap();
                expected.push(out);
            }
            let mut batched = spec.create(&engine).unwrap();
            let batch = process_many(&mut *batched, ints(0..200), LONG);
            assert!(batch.left.is_empty(), "{}: {} inputs left", spec.id, batch.left.len());
            let got: Vec<Vec<Value>> = batch.per_input().into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(got, expected, "{}", spec.id);
        }
    });
}

/// A Python node's results of every int-like kind answer a batch as they
/// answer one call: the plain ints the RustPython guest writes straight
/// into the batch's answers (up to both ends of 64 bits), and the bools,
/// `IntEnum` members, int subclasses, ints past 64 bits, `None`s and
/// strings it converts as any other output; on every sandboxed Python
/// runtime.
#[test]
fn int_like_results_answer_a_batch_as_they_answer_one_call() {
    let source = "import enum\n\
        class Color(enum.IntEnum):\n    RED = 7\n\
        class Mine(int):\n    pass\n\
        class Node:\n\
        \x20   def process(self, x):\n\
        \x20       k = x % 10\n\
        \x20       if k == 0: return x\n\
        \x20       if k == 1: return -x * (2**62 // 1000)\n\
        \x20       if k == 2: return x % 4 == 0\n\
        \x20       if k == 3: return Color.RED\n\
        \x20       if k == 4: return Mine(x)\n\
        \x20       if k == 5: return 2**63 + x\n\
        \x20       if k == 6: return -2**63 if x % 4 else 2**63 - 1\n\
        \x20       if k == 7: return -2**63 - x\n\
        \x20       if k == 8: return str(x)\n\
        \x20       return None\n";
    let mut runtimes = vec![Runtime::Wasm];
    match Runtime::WasmCpython.unavailable_reason() {
        None => runtimes.push(Runtime::WasmCpython),
        Some(why) => eprintln!("skipped on wasm-cpython: {why}"),
    }
    on_node_thread(|| {
        for runtime in runtimes {
            let mut spec = python_node("ints", source, SandboxPolicy::default());
            spec.runtime = runtime;
            let engine = engine();
            let mut one_by_one = spec.create(&engine).unwrap();
            let mut expected = Vec::new();
            for input in ints(0..300) {
                let mut out = Vec::new();
                one_by_one.process(input, &mut out).unwrap();
                expected.push(out);
            }
            assert_eq!(expected[10], [Value::Int(10)]);
            assert_eq!(expected[16], [Value::Int(i64::MAX)]);
            assert_eq!(expected[26], [Value::Int(i64::MIN)]);
            assert!(matches!(expected[15][0], Value::BigInt(_)), "{:?}", expected[15]);
            let mut batched = spec.create(&engine).unwrap();
            let batch = process_many(&mut *batched, ints(0..300), LONG);
            assert!(batch.left.is_empty(), "{runtime:?}: {} inputs left", batch.left.len());
            let got: Vec<Vec<Value>> = batch.per_input().into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(got, expected, "{runtime:?}");
        }
    });
}

/// The deadline is each input's: inputs that each take 60% of the timeout
/// all pass in one batch that takes far longer than the timeout.
#[test]
fn each_input_of_a_batch_has_its_own_deadline() {
    let policy = SandboxPolicy { timeout: Duration::from_millis(1000), ..SandboxPolicy::default() };
    let spec = sandboxed("nap", hostile_rust("nap"), policy);
    on_node_thread(|| {
        let mut node = spec.create(&engine()).unwrap();
        let batch = process_many(&mut *node, vec![Value::Int(600); 4], LONG);
        let got: Vec<_> = batch.per_input().into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(got, vec![vec![Value::Int(600)]; 4]);
        // One input past the deadline still times out, alone.
        let batch = process_many(&mut *node, vec![Value::Int(10), Value::Int(3000), Value::Int(10)], LONG);
        let got = batch.per_input();
        assert_eq!(got[0].as_ref().ok(), Some(&vec![Value::Int(10)]));
        assert!(matches!(got[1], Err(NodeFailure::Timeout(_))), "{:?}", got[1]);
        assert_eq!((got.len(), batch.left.len()), (2, 1), "the input after the timeout is left");
    });
}

/// Fuel is each input's: find a loop size that runs within the fuel and
/// whose double does not; three of them then pass in one batch.
#[test]
fn each_input_of_a_batch_has_its_own_fuel() {
    let policy = SandboxPolicy { fuel: Some(50_000_000), ..SandboxPolicy::default() };
    let spec = python_node(
        "burn",
        "class Node:\n    def process(self, n):\n        total = 0\n        for i in range(n):\n            total += i\n        return total\n",
        policy,
    );
    on_node_thread(|| {
        let engine = engine();
        let fits = |n: i64| {
            let mut node = spec.create(&engine).unwrap();
            match node.process(Value::Int(n), &mut Vec::new()) {
                Ok(()) => true,
                Err(NodeFailure::OutOfFuel(_)) => false,
                Err(other) => panic!("{other}"),
            }
        };
        let mut n = 1000;
        while fits(2 * n) {
            n *= 2;
            assert!(n < 1 << 30, "the fuel never ran out");
        }
        assert!(fits(n));
        let mut node = spec.create(&engine).unwrap();
        let batch = process_many(&mut *node, vec![Value::Int(n); 3], LONG);
        let got = batch.per_input();
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(Result::is_ok), "{got:?}");
    });
}

/// Output limits are each input's: an input with too many outputs fails
/// alone, the batch stops there, and the node goes on with the rest.
#[test]
fn output_limits_hold_per_input_and_a_failure_ends_the_batch() {
    let policy = SandboxPolicy { max_outputs: 3, ..SandboxPolicy::default() };
    let spec = python_node(
        "repeat",
        "class Node:\n    def process(self, n):\n        for i in range(n):\n            yield i\n",
        policy,
    );
    on_node_thread(|| {
        let mut node = spec.create(&engine()).unwrap();
        let batch = process_many(&mut *node, ints(2..6), LONG);
        let got = batch.per_input();
        assert_eq!(got[0].as_ref().ok(), Some(&ints(0..2)));
        assert_eq!(got[1].as_ref().ok(), Some(&ints(0..3)));
        assert!(matches!(got[2], Err(NodeFailure::LimitExceeded(Limit::Guest(_) | Limit::Outputs { .. }))), "{:?}", got[2]);
        assert_eq!(got.len(), 3);
        assert_eq!(Vec::from(batch.left.clone()), vec![Value::Int(5)]);
        // The node is still usable: the input left fails the same way.
        let mut rest = batch.left;
        let (mut out, mut answers) = (Vec::new(), Vec::new());
        node.process_many(&mut rest, LONG, &mut out, &mut answers);
        assert!(matches!(answers[0].failure(), Some(NodeFailure::LimitExceeded(_))));
        let batch = process_many(&mut *node, ints(0..2), LONG);
        let got: Vec<_> = batch.per_input().into_iter().map(Result::ok).collect();
        assert_eq!(got, vec![Some(vec![]), Some(ints(0..1))]);
    });
}

/// A trap mid-batch fails the input the node had; the inputs answered
/// before keep their outputs, and those after are left, none lost.
#[test]
fn a_trap_mid_batch_fails_only_the_input_it_hit() {
    let spec = sandboxed("scripted", hostile_rust("scripted"), SandboxPolicy::default());
    let give = |n: u8| Value::Bytes(vec![1, 0, n]);
    on_node_thread(|| {
        let mut node = spec.create(&engine()).unwrap();
        let mut reference = spec.create(&engine()).unwrap();
        let mut expected = Vec::new();
        reference.process(give(7), &mut expected).unwrap();
        let batch = process_many(&mut *node, vec![give(7), give(7), Value::Bytes(vec![5]), give(7), give(7)], LONG);
        let got = batch.per_input();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().ok(), Some(&expected));
        assert_eq!(got[1].as_ref().ok(), Some(&expected));
        assert!(matches!(got[2], Err(NodeFailure::Trap { .. })), "{:?}", got[2]);
        assert_eq!(batch.left.len(), 2, "the inputs after the trap are left for a fresh node");
        // The instance is lost: the next batch says so for its first input only.
        let batch = process_many(&mut *node, vec![give(7)], LONG);
        assert!(matches!(batch.per_input()[..], [Err(NodeFailure::Poisoned)]));
    });
}

/// A batch stops taking inputs once its time budget has passed (the
/// pipeline uses this to bound how long outputs wait).
#[test]
fn a_batch_stops_at_its_time_budget() {
    let spec = sandboxed("nap", hostile_rust("nap"), SandboxPolicy::default());
    on_node_thread(|| {
        let mut node = spec.create(&engine()).unwrap();
        let batch = process_many(&mut *node, vec![Value::Int(20); 10], Duration::from_millis(30));
        assert!((1..10).contains(&batch.answers.len()), "{} answers", batch.answers.len());
        assert_eq!(batch.answers.len() + batch.left.len(), 10);
        assert!(batch.per_input().iter().all(Result::is_ok));
    });
}

/// A node that breaks the batch protocol fails the input it had, clearly;
/// asking for inputs out of turn traps.
#[test]
fn a_node_that_breaks_the_batch_protocol_fails_alone() {
    on_node_thread(|| {
        let engine = engine();
        let spec = sandboxed("quits", hostile_rust("batch-unanswered"), SandboxPolicy::default());
        let mut node = spec.create(&engine).unwrap();
        let batch = process_many(&mut *node, ints(0..3), LONG);
        match &batch.per_input()[..] {
            [Err(NodeFailure::BrokeInterface(message))] => assert!(message.contains("without answering"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(batch.left.len(), 2);
        // Still usable: a plain call works.
        let mut out = Vec::new();
        node.process(Value::Int(4), &mut out).unwrap();
        assert_eq!(out, vec![Value::Int(4)]);

        let spec = sandboxed("extra", hostile_rust("batch-extra"), SandboxPolicy::default());
        let mut node = spec.create(&engine).unwrap();
        let batch = process_many(&mut *node, ints(0..3), LONG);
        let got = batch.per_input();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().ok(), Some(&vec![Value::Int(0)]));
        assert_eq!(got[1].as_ref().ok(), Some(&vec![Value::Int(0)]));
        match &got[2] {
            Err(NodeFailure::Trap { message, .. }) => assert!(message.contains("host.next-input"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(batch.left.is_empty());
    });
}

/// In a pipeline, whose inputs arrive in batches: a node that traps on
/// some inputs, restarted after each (`on_error = "restart"`), gives every
/// other input's outputs, in order, and each failure names its own item.
#[tokio::test(flavor = "multi_thread")]
async fn a_pipeline_loses_nothing_around_traps_in_a_batch() {
    use nodehost::manifest::{InputSpec, OnError, Pipeline, PipelineNode, Upstream};
    use nodehost::{Error, Stage};

    let spec = sandboxed("scripted", hostile_rust("scripted"), SandboxPolicy::default());
    let pipeline = Pipeline {
        name: "traps".into(),
        nodes: vec![PipelineNode { spec, inputs: vec![Upstream::Input], on_error: OnError::Restart, thread: Default::default(), auto: None }],
        input: InputSpec::Values(vec![]),
        output: Default::default(),
        fuse: Default::default(),
    };
    // Item i (from 1) gives i zero bytes, but every seventh traps. The
    // script: one output (1), of bytes (2), its size up to 2^8 (8) and i.
    let script = |i: u8| if i.is_multiple_of(7) { Value::Bytes(vec![5]) } else { Value::Bytes(vec![1, 2, 8, i, 0, 0]) };
    let inputs: Vec<Value> = (1..=200u8).map(script).collect();
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs).await.unwrap();
    let mut reference = sandboxed("reference", hostile_rust("scripted"), SandboxPolicy::default()).create(&engine()).unwrap();
    let mut expected = Vec::new();
    for i in (1..=200u8).filter(|i| !i.is_multiple_of(7)) {
        reference.process(script(i), &mut expected).unwrap();
    }
    let got: Vec<Value> = outputs.into_iter().map(|o| o.value).collect();
    assert_eq!(got, expected);
    let failed: Vec<u64> = report
        .failures
        .iter()
        .map(|e| match e {
            Error::Node { stage: Stage::Item(i), failure: NodeFailure::Trap { .. }, .. } => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(failed, (1..=200u64).filter(|i| i.is_multiple_of(7)).collect::<Vec<_>>());
}

/// On the trusted CPython runtime a batch runs under one hold of the GIL,
/// and each input keeps its own deadline and its own failure: four inputs
/// of 60% of the timeout each pass; a slow one times out alone, and one
/// that raises fails alone, each leaving the inputs after it.
#[test]
fn a_cpython_batch_keeps_each_inputs_deadline_and_failure() {
    if !Runtime::Cpython.is_available() {
        eprintln!("skipped: built without the cpython runtime");
        return;
    }
    let source = "import time\n\nclass Node:\n    def process(self, ms):\n        if ms < 0:\n            raise ValueError(f'negative: {ms}')\n        end = time.monotonic() + ms / 1000\n        while time.monotonic() < end:\n            pass\n        return ms\n";
    let policy = SandboxPolicy { timeout: Duration::from_millis(500), ..SandboxPolicy::default() };
    let spec = NodeSpec::python("spin", "spin.py", source, "Node", Runtime::Cpython).with_policy(policy);
    let mut node = spec.create(&engine()).unwrap();
    let batch = process_many(&mut *node, vec![Value::Int(300); 4], LONG);
    let got: Vec<_> = batch.per_input().into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(got, vec![vec![Value::Int(300)]; 4]);

    // Interrupted where it ran (CPython's watchdog), with its traceback.
    let batch = process_many(&mut *node, vec![Value::Int(1), Value::Int(5000), Value::Int(1)], LONG);
    let got = batch.per_input();
    assert_eq!(got[0].as_ref().ok(), Some(&vec![Value::Int(1)]));
    assert!(matches!(got[1], Err(NodeFailure::TimeoutInterrupted { .. })), "{:?}", got[1]);
    assert_eq!((got.len(), batch.left.len()), (2, 1), "the input after the timeout is left");

    let batch = process_many(&mut *node, vec![Value::Int(2), Value::Int(-1), Value::Int(3)], LONG);
    let got = batch.per_input();
    assert_eq!(got[0].as_ref().ok(), Some(&vec![Value::Int(2)]));
    match &got[1] {
        Err(NodeFailure::Guest(e)) => assert!(e.message.contains("negative: -1") && e.traceback.is_some(), "{e:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(batch.left, VecDeque::from(vec![Value::Int(3)]));
}

/// A one-node pipeline over `inputs` with `on_error`; its outputs' values
/// and the items that failed, with how.
async fn through_pipeline(spec: NodeSpec, on_error: nodehost::manifest::OnError, inputs: Vec<Value>) -> (Vec<Value>, Vec<(u64, NodeFailure)>) {
    use nodehost::manifest::{InputSpec, Pipeline, PipelineNode, Upstream};
    use nodehost::{Error, Stage};
    let pipeline = Pipeline {
        name: "batches".into(),
        nodes: vec![PipelineNode { spec, inputs: vec![Upstream::Input], on_error, thread: Default::default(), auto: None }],
        input: InputSpec::Values(vec![]),
        output: Default::default(),
        fuse: Default::default(),
    };
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs).await.unwrap();
    let failed = report
        .failures
        .into_iter()
        .map(|e| match e {
            Error::Node { stage: Stage::Item(i), failure, .. } => (i, failure),
            other => panic!("{other:?}"),
        })
        .collect();
    (outputs.into_iter().map(|o| o.value).collect(), failed)
}

/// Cheap inputs cross in batches, many at once: over thousands of inputs,
/// with a failure every so often (one that raises, one whose output is past
/// the size limit), each input still gets exactly its own answer, in order,
/// and each failure names its own item; in the RustPython sandbox and in
/// the CPython one (its ints in `process-packed` batches).
#[tokio::test(flavor = "multi_thread")]
async fn cheap_inputs_in_batches_keep_their_own_answers_and_failures() {
    cheap_inputs_keep_their_own_answers(Runtime::Wasm).await;
    match Runtime::WasmCpython.unavailable_reason() {
        None => cheap_inputs_keep_their_own_answers(Runtime::WasmCpython).await,
        Some(why) => eprintln!("skipped on wasm-cpython: {why}"),
    }
}

async fn cheap_inputs_keep_their_own_answers(runtime: Runtime) {
    use nodehost::manifest::OnError;
    let policy = SandboxPolicy { max_output_bytes: 4096, ..SandboxPolicy::default() };
    let mut spec = python_node(
        "sparse",
        "class Node:\n    def __init__(self):\n        self.seen = 0\n    def process(self, x):\n        self.seen += 1\n        if x % 997 == 0:\n            raise ValueError(f'no {x}')\n        if x % 1499 == 0:\n            return 'x' * 100000\n        return [x, self.seen]\n",
        policy,
    );
    spec.runtime = runtime;
    let (got, failed) = through_pipeline(spec, OnError::Skip, ints(1..6001)).await;
    let expected: Vec<Value> = (1..6001i64)
        .filter(|x| x % 997 != 0 && x % 1499 != 0)
        .map(|x| Value::List(vec![Value::Int(x), Value::Int(x)]))
        .collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected, "every input answered once, in order, by one instance");
    let mut want: Vec<u64> = (1..6001u64).filter(|x| x % 997 == 0 || x % 1499 == 0).collect();
    want.sort_unstable();
    assert_eq!(failed.iter().map(|(i, _)| *i).collect::<Vec<_>>(), want);
    for (i, failure) in &failed {
        if i % 997 == 0 {
            assert!(matches!(failure, NodeFailure::Guest(e) if e.message.contains(&format!("no {i}"))), "{i}: {failure}");
        } else {
            assert!(matches!(failure, NodeFailure::LimitExceeded(Limit::OutputBytes { .. })), "{i}: {failure}");
        }
    }
}

/// A trap among cheap inputs, which cross in `process-batch` calls, loses
/// none of them: the inputs before it in its batch are answered again by a
/// fresh instance, the one that trapped fails alone, and the rest go on;
/// on the Rust and the Python guest, over many batches with many traps.
#[tokio::test(flavor = "multi_thread")]
async fn a_trap_in_a_batch_of_cheap_inputs_fails_only_its_own_input() {
    use nodehost::manifest::OnError;
    // Every 701st input traps (the Rust guest: a crash; Python: the hard
    // deadline of a loop, the node not interruptible).
    let script = |i: u64| if i.is_multiple_of(701) { Value::Bytes(vec![5]) } else { Value::Bytes(vec![1, 0, (i % 200) as u8]) };
    let rust = sandboxed("scripted", hostile_rust("scripted"), SandboxPolicy::default());
    let inputs: Vec<Value> = (1..=3000u64).map(script).collect();
    let (got, failed) = through_pipeline(rust, OnError::Skip, inputs).await;
    let mut reference = sandboxed("reference", hostile_rust("scripted"), SandboxPolicy::default()).create(&engine()).unwrap();
    let mut expected = Vec::new();
    for i in (1..=3000u64).filter(|i| !i.is_multiple_of(701)) {
        reference.process(script(i), &mut expected).unwrap();
    }
    assert_eq!(got, expected);
    let traps: Vec<u64> = failed.iter().map(|(i, f)| {
        assert!(matches!(f, NodeFailure::Trap { .. }), "{i}: {f}");
        *i
    }).collect();
    assert_eq!(traps, vec![701, 1402, 2103, 2804]);

    let policy = SandboxPolicy { timeout: Duration::from_millis(300), interruptible: Some(false), ..SandboxPolicy::default() };
    let python = python_node(
        "loops",
        "class Node:\n    def process(self, x):\n        while x % 1201 == 0:\n            pass\n        return x * 2\n",
        policy,
    );
    let (got, failed) = through_pipeline(python, OnError::Skip, ints(1..3001)).await;
    assert_eq!(got, (1..3001i64).filter(|x| x % 1201 != 0).map(|x| Value::Int(2 * x)).collect::<Vec<_>>());
    assert_eq!(failed.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![1201, 2402]);
    assert!(failed.iter().all(|(_, f)| f.is_timeout()), "{failed:?}");
}

/// An interruptible node interrupted in a batch of cheap inputs: the input
/// is given again on its own, with a whole call's time; one that needs
/// more than that fails alone, interrupted, and the node goes on; in the
/// RustPython sandbox and in the CPython one (its batches packed).
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_input_in_a_batch_gets_a_call_of_its_own() {
    an_interrupted_input_gets_a_call_of_its_own(Runtime::Wasm).await;
    match Runtime::WasmCpython.unavailable_reason() {
        None => an_interrupted_input_gets_a_call_of_its_own(Runtime::WasmCpython).await,
        Some(why) => eprintln!("skipped on wasm-cpython: {why}"),
    }
}

async fn an_interrupted_input_gets_a_call_of_its_own(runtime: Runtime) {
    use nodehost::manifest::OnError;
    let policy = SandboxPolicy { timeout: Duration::from_millis(400), interruptible: Some(true), ..SandboxPolicy::default() };
    let mut spec = python_node(
        "slow",
        "class Node:\n    def process(self, x):\n        while x == 1500:\n            pass\n        return x + 1\n",
        policy,
    );
    spec.runtime = runtime;
    let (got, failed) = through_pipeline(spec, OnError::Skip, ints(1..3001)).await;
    assert_eq!(got, (1..3001i64).filter(|x| *x != 1500).map(|x| Value::Int(x + 1)).collect::<Vec<_>>());
    match &failed[..] {
        [(1500, NodeFailure::Interrupted { .. } | NodeFailure::TimeoutInterrupted { .. })] => {}
        other => panic!("{other:?}"),
    }
}

/// A node whose `process-batch` answers none of its inputs, or more than
/// it got, fails the input at the front of the batch with a clear message,
/// keeps the rest, and gets its inputs one per crossing from then on.
#[test]
fn a_node_that_breaks_process_batch_fails_one_input_and_goes_on() {
    on_node_thread(|| {
        for kind in ["batch-unanswered", "batch-extra"] {
            let spec = sandboxed(kind, hostile_rust(kind), SandboxPolicy::default());
            let mut node = spec.create(&engine()).unwrap();
            // One input alone (a plain `process`): the node's inputs are
            // now known to be cheap, so the next ones go as a batch.
            let batch = process_many(&mut *node, ints(0..1), LONG);
            assert_eq!(batch.per_input()[0].as_ref().ok(), Some(&vec![Value::Int(0)]), "{kind}");
            let batch = process_many(&mut *node, ints(1..11), LONG);
            match &batch.per_input()[..] {
                [Err(NodeFailure::BrokeInterface(message))] => assert!(message.contains("process-batch"), "{kind}: {message}"),
                other => panic!("{kind}: {other:?}"),
            }
            assert_eq!(Vec::from(batch.left.clone()), ints(2..11), "{kind}: the inputs after the first are kept");
            // From now on, one input per crossing (process-many, which
            // these kinds break in their own way).
            let batch = process_many(&mut *node, Vec::from(batch.left), LONG);
            assert!(
                !batch.per_input().iter().any(|r| matches!(r, Err(NodeFailure::BrokeInterface(m)) if m.contains("process-batch"))),
                "{kind}: batched again"
            );
        }
    });
}

/// Staged bytes (a component's outputs written to its stdout) in a batch:
/// each answer names its own from where its bytes begin, and every input
/// gets exactly what it gets alone; a node whose staged bytes never add up
/// fails each input alone, with its own call's message (a node whose inputs
/// fail is not batched until they pass again).
#[tokio::test(flavor = "multi_thread")]
async fn staged_outputs_in_a_batch_resolve_answer_by_answer() {
    use nodehost::manifest::OnError;
    let spec = sandboxed("staged", hostile_rust("staged"), SandboxPolicy::default());
    let (got, failed) = through_pipeline(spec, OnError::Fail, ints(0..3000)).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(got.len(), 6000);
    let one: Vec<Value> = got[..2].to_vec();
    assert!(matches!(&one[0], Value::Audio(a) if a.samples == vec![0.5, -0.25, 1.0, 0.0]), "{:?}", one[0]);
    assert_eq!(one[1], Value::Bytes(vec![0xa5; 1000]));
    assert!(got.chunks(2).all(|pair| pair == &one[..]), "every input's outputs are the first one's");

    let spec = sandboxed("stray", hostile_rust("staged-stray"), SandboxPolicy::default());
    let (got, failed) = through_pipeline(spec, OnError::Skip, ints(0..600)).await;
    assert!(got.is_empty());
    assert_eq!(failed.len(), 600);
    assert!(
        failed.iter().all(|(_, f)| matches!(f, NodeFailure::InvalidValue(m) if m.contains("wrote 20 bytes to its stdout in this call and its outputs name 10"))),
        "{failed:?}"
    );
}
