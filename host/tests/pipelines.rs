//! Pipelines end to end: the demo on every runtime, fan-out and fan-in,
//! errors that name the node and the item, manifest errors with line and
//! column, and the `nodehost` command itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use nodehost::manifest::{self, AudioSource, InputSpec};
use nodehost::{Error, NodeFailure, Runtime, Stage, Value};

const DEMO_OUTPUT: &str = "speech 0.30s - 0.80s  (0.50 s, peak -13.6 dBFS)
speech 1.12s - 1.84s  (0.72 s, peak -13.9 dBFS)
speech 2.26s - 2.66s  (0.40 s, peak -14.3 dBFS)
";

/// A manifest in a fresh directory, with `{tests}` standing for the test
/// Python directory and `{examples}` for the examples.
fn manifest_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nodehost-pipelines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = text
        .replace("{tests}", &test_python("").display().to_string())
        .replace("{examples}", &example("").display().to_string());
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `nodehost run MANIFEST --stdin`, with standard input and output piped.
fn spawn_with_stdin(manifest: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .arg("run")
        .arg(manifest)
        .arg("--stdin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn parse_err(text: &str) -> String {
    match manifest::parse(text, Path::new("/nowhere/p.toml")) {
        Ok(_) => panic!("manifest accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_gives_the_same_segments_on_every_runtime() {
    let pipeline = manifest::load(&example("demo/pipeline.toml")).unwrap();
    let InputSpec::Audio { source: AudioSource::WavFile(path), .. } = &pipeline.input else {
        panic!("the demo reads a WAV file")
    };
    let frames: Vec<Value> =
        nodehost::value::wav::WavReader::open(path).unwrap().frames(320).map(|f| Value::Audio(f.unwrap())).collect();
    for (python, rust) in [
        (Runtime::Wasm, Runtime::Wasm),
        (Runtime::NativeRustpython, Runtime::Native),
        (Runtime::Cpython, Runtime::Native),
        (Runtime::Cpython, Runtime::Wasm),
    ] {
        let mut p = pipeline.clone();
        p.set_python_runtime(python);
        p.set_rust_runtime(rust);
        let outputs = nodehost::run_collect(&p, engine(), frames.clone()).await.unwrap();
        let text: String = outputs.iter().map(|o| format!("{}\n", o.value.as_str().unwrap())).collect();
        assert_eq!(text, DEMO_OUTPUT, "python on {python}, rust on {rust}");
    }
}

#[test]
fn the_nodehost_command_runs_the_demo() {
    let out = Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .args(["run", "--stats"])
        .arg(example("demo/pipeline.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), DEMO_OUTPUT);
    assert!(stderr.contains("150 inputs, 3 outputs"), "{stderr}");
    assert!(stderr.contains("speech from 0.30 s to 0.80 s") && stderr.contains("node=\"vad\""), "{stderr}");
}

#[test]
fn the_nodehost_command_reports_a_bad_manifest_with_its_line() {
    let path = manifest_file("bad.toml", "[[node]]\nid = \"a\"\nrust = \"gain\"\ncolour = \"red\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml: line 4, column 1: unknown field `colour`"), "{stderr}");
}

/// Writing to a pipe, the command asks the pipe to hold 1 MiB (so writing
/// out a full buffer rarely waits for the reading process), where the
/// system lets any process do so; the lines are the same.
#[cfg(target_os = "linux")]
#[test]
fn the_command_widens_a_pipe_it_writes_to() {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let manifest = manifest_file(
        "piped.toml",
        "[input]\nsequence = { start = 1, count = 3 }\n\n[[node]]\nid = \"pass\"\nrust = \"pass-through\"\n",
    );
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&manifest).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(text, "1\n2\n3\n");
    // SAFETY: F_GETPIPE_SZ only reads the capacity of the pipe we hold.
    let capacity = unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_GETPIPE_SZ) };
    let limit: i64 = std::fs::read_to_string("/proc/sys/fs/pipe-max-size").unwrap().trim().parse().unwrap();
    if limit >= 1 << 20 {
        assert_eq!(capacity, 1 << 20, "the pipe's capacity");
    }
}

#[test]
fn json_lines_in_and_out_through_the_command() {
    let input = manifest_file("in.jsonl", "{\"$bytes\": \"aGk=\"}\n7\n\n\"x\"\n");
    let manifest = manifest_file(
        "jsonl.toml",
        &format!("[input]\njsonl = \"{}\"\n\n[[node]]\nid = \"pass\"\nrust = \"pass-through\"\n", input.display()),
    );
    let out_file = manifest.with_file_name("out.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .arg("run")
        .arg(&manifest)
        .arg("--output")
        .arg(&out_file)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "{\"$bytes\":\"aGk=\"}\n7\n\"x\"\n");

    // And from standard input.
    use std::io::Write;
    let mut child = spawn_with_stdin(&manifest);
    child.stdin.take().unwrap().write_all(b"[1, 2]\n{\"a\": null}\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[1,2]\n{\"a\":null}\n");
}

#[test]
fn a_wav_input_is_sent_frame_by_frame_and_a_cut_one_fails_clearly() {
    // 24-bit stereo, written by hound; three frames of two channels.
    let wav = manifest_file("in24.wav", "");
    let spec = hound::WavSpec { channels: 2, sample_rate: 8000, bits_per_sample: 24, sample_format: hound::SampleFormat::Int };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for s in [-4_194_304, 4_194_304, 2_097_152, -2_097_152, 0, 6_291_456] {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
    let run = |wav: &Path| {
        let manifest = manifest_file(
            "wav.toml",
            &format!("[input]\nwav = \"{}\"\nframe = 2\n\n[[node]]\nid = \"pass\"\nrust = \"pass-through\"\n", wav.display()),
        );
        Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&manifest).output().unwrap()
    };
    let out = run(&wav);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"$audio\":{\"sample_rate\":8000,\"channels\":2,\"samples\":[-0.5,0.5,0.25,-0.25]}}\n\
         {\"$audio\":{\"sample_rate\":8000,\"channels\":2,\"samples\":[0.0,0.75]}}\n"
    );

    // The same file cut in the middle of its last sample.
    let bytes = std::fs::read(&wav).unwrap();
    let cut = wav.with_file_name("cut24.wav");
    std::fs::write(&cut, &bytes[..bytes.len() - 2]).unwrap();
    let out = run(&cut);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cut24.wav") && stderr.contains("ends early"), "{stderr}");

    // Not a WAV file at all.
    let text = wav.with_file_name("text.wav");
    std::fs::write(&text, "just some text, not audio").unwrap();
    let stderr = String::from_utf8_lossy(&run(&text).stderr).into_owned();
    assert!(stderr.contains("text.wav") && stderr.contains("not a WAV file"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fan_out_and_fan_in() {
    let path = manifest_file(
        "fan.toml",
        r#"
[[node]]
id = "double"
python = "{examples}/corpus/chain.py"
class = "Double"
inputs = ["input"]

[[node]]
id = "add"
rust = "calculator"
params = { operation = "add", operand = 100 }
inputs = ["input"]

[[node]]
id = "merge"
rust = "pass-through"
inputs = ["double", "add"]

[[node]]
id = "side"
python = "{examples}/corpus/counter.py"
inputs = ["double"]
"#,
    );
    let pipeline = manifest::load(&path).unwrap();
    let mut sinks: Vec<String> = pipeline.sinks().iter().map(|&i| pipeline.nodes[i].spec.id.clone()).collect();
    sinks.sort();
    assert_eq!(sinks, ["merge", "side"]);
    let outputs = nodehost::run_collect(&pipeline, engine(), vec![1.into(), 2.into(), 3.into()]).await.unwrap();
    let mut merged: Vec<i64> = outputs.iter().filter(|o| &*o.node == "merge").map(|o| o.value.as_i64().unwrap()).collect();
    merged.sort();
    assert_eq!(merged, [2, 4, 6, 101, 102, 103]);
    let side: Vec<&Value> = outputs.iter().filter(|o| &*o.node == "side").map(|o| &o.value).collect();
    assert_eq!(side.len(), 4, "three counts and the flush");
    assert_eq!(side[3], &json(r#"{"final_count": 3, "final_total": 12}"#));
}

/// `fuse` and each node's runtime, as a manifest header and the runtime
/// override a test applies.
const FUSE_MODES: [&str; 3] = ["always", "never", "auto"];

/// input -> first (on_error given) -> second -> tag, Python nodes from
/// chain_probes.py, fused as `fuse` says.
fn probe_chain(fuse: &str, first: &str, on_error: &str, second: &str, runtime: Runtime) -> manifest::Pipeline {
    let probes = test_python("chain_probes.py");
    let node = |id: &str, class: &str, extra: &str| {
        format!("[[node]]\nid = \"{id}\"\npython = \"{}\"\nclass = \"{class}\"\n{extra}\n", probes.display())
    };
    let text = [
        format!("fuse = \"{fuse}\"\n"),
        node("first", first, &format!("on_error = \"{on_error}\"")),
        node("second", second, ""),
        node("tag", "Tag", ""),
    ]
    .concat();
    let mut pipeline = manifest::parse(&text, &probes.with_file_name("chain.toml")).unwrap();
    pipeline.set_python_runtime(runtime);
    pipeline
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fused_chain_gives_what_separate_threads_give_failures_and_flushes_included() {
    let inputs: Vec<Value> = (1..=5).map(Value::Int).collect();
    for runtime in [Runtime::Wasm, Runtime::Cpython] {
        for fuse in FUSE_MODES {
            // Item 3 fails in the first node and is skipped; the second
            // gives its outputs only when flushed, and they still go
            // through the tag before the tag's own flush.
            let pipeline = probe_chain(fuse, "FailsOnThree", "skip", "SumAtFlush", runtime);
            let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs.clone()).await.unwrap();
            let values: Vec<&str> = outputs.iter().map(|o| o.value.as_str().unwrap()).collect();
            assert_eq!(values, ["t12", "t4", "tend"], "fuse {fuse} on {runtime}");
            assert_eq!(report.failures.len(), 1, "fuse {fuse} on {runtime}");
            let failure = &report.failures[0];
            assert!(
                matches!(failure, Error::Node { node, stage: Stage::Item(3), .. } if node == "first"),
                "fuse {fuse} on {runtime}: {failure}"
            );
            assert!(failure.to_string().contains("three is refused"), "{failure}");
            let counts: Vec<(u64, u64)> = report.nodes.iter().map(|n| (n.items_in, n.items_out)).collect();
            assert_eq!(counts, [(5, 4), (4, 2), (2, 3)], "fuse {fuse} on {runtime}");
            let threads: Vec<usize> = report.nodes.iter().map(|n| n.thread).collect();
            let fused = fuse == "always" || (fuse == "auto" && runtime == Runtime::Cpython);
            if fused {
                assert_eq!(threads, [0, 0, 0], "fuse {fuse} on {runtime}");
            } else {
                assert_eq!(threads, [0, 1, 2], "fuse {fuse} on {runtime}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_restarted_inside_a_fused_chain_starts_over_and_its_neighbours_keep_their_state() {
    let inputs: Vec<Value> = (1..=5).map(Value::Int).collect();
    for fuse in FUSE_MODES {
        let pipeline = probe_chain(fuse, "CountsAndFailsOnThree", "restart", "SumAtFlush", Runtime::Wasm);
        let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs.clone()).await.unwrap();
        let values: Vec<&str> = outputs.iter().map(|o| o.value.as_str().unwrap()).collect();
        // Counts 1, 2, then (restarted) 1, 2: the sum keeps all four.
        assert_eq!(values, ["t6", "t4", "tend"], "fuse {fuse}");
        assert_eq!(report.nodes[0].restarts, 1, "fuse {fuse}");
        assert_eq!(report.nodes[1].restarts, 0, "fuse {fuse}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_inside_a_fused_chain_stops_the_run_and_names_its_node_and_item() {
    for runtime in [Runtime::Wasm, Runtime::Cpython] {
        let pipeline = probe_chain("always", "FailsOnThree", "fail", "SumAtFlush", runtime);
        let err = nodehost::run_collect(&pipeline, engine(), (1..=5).map(Value::Int).collect()).await.unwrap_err();
        assert!(matches!(&err, Error::Node { node, stage: Stage::Item(3), .. } if node == "first"), "{runtime}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_item_sends_its_outputs_without_waiting_for_the_rest_of_its_batch() {
    // Five items queued at once before a node that takes 50 ms each: every
    // output leaves as soon as its item is done, one batch each, rather
    // than waiting for the next item.
    let probes = test_python("chain_probes.py");
    let text = format!("[[node]]\nid = \"slow\"\npython = \"{}\"\nclass = \"Sleeps\"\n", probes.display());
    let pipeline = manifest::parse(&text, &probes.with_file_name("slow.toml")).unwrap();
    let (in_tx, in_rx) = tokio::sync::mpsc::channel(16);
    for n in 0..5 {
        in_tx.send(vec![Ok(Value::Int(n))]).await.unwrap();
    }
    drop(in_tx);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel(16);
    let run = tokio::spawn(async move { nodehost::pipeline::run(&pipeline, engine(), in_rx, out_tx).await });
    let mut batches = Vec::new();
    while let Some(batch) = out_rx.recv().await {
        batches.push(batch.len());
    }
    run.await.unwrap().unwrap();
    assert_eq!(batches, [1, 1, 1, 1, 1]);
}

#[test]
fn live_input_gets_its_output_at_once_though_output_is_buffered() {
    // A line in, its output out, while standard input stays open: the
    // buffered writer flushes whenever nothing newer is waiting.
    use std::io::{BufRead, Write};
    let manifest = manifest_file("live.toml", "[[node]]\nid = \"pass\"\nrust = \"pass-through\"\n");
    let mut child = spawn_with_stdin(&manifest);
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    for n in 1..=3 {
        writeln!(stdin, "{n}").unwrap();
        stdin.flush().unwrap();
        let line = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the output came while input was open");
        assert_eq!(line, n.to_string());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// The program's allocator asks for no transparent huge pages: with them
/// the kernel zeroed 2 MiB at each first touch (a quarter of a sandboxed
/// chain's CPU, and 55 MB of extra RSS). Checked where the kernel gives
/// huge pages only to memory marked for them (`madvise`, this machine's
/// and Debian's default); under `always` every process may get some, and
/// under `never` none can.
#[test]
fn the_command_s_memory_is_not_marked_for_huge_pages() {
    use std::io::{BufRead, Write};
    let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if !mode.contains("[madvise]") {
        eprintln!("skipped: transparent huge pages are {:?}, not madvise", mode.trim());
        return;
    }
    let manifest = manifest_file(
        "huge.toml",
        "[[node]]\nid = \"double\"\nrust = \"calculator\"\nparams = { operation = \"multiply\", operand = 2 }\n\
         [[node]]\nid = \"text\"\nrust = \"text\"\nparams = { operation = \"format\", template = \"n={}\" }\n",
    );
    let mut child = spawn_with_stdin(&manifest);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Enough items for every thread to allocate, then a look at the
    // process while it still runs.
    let items = 20_000;
    let feeder = std::thread::spawn(move || {
        for n in 0..items {
            writeln!(stdin, "{n}").unwrap();
        }
        stdin.flush().unwrap();
        stdin
    });
    for n in 0..items {
        assert_eq!(lines.next().unwrap().unwrap(), format!("\"n={}\"", 2 * n));
    }
    let rollup = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", child.id())).unwrap();
    drop(feeder.join().unwrap());
    assert!(child.wait().unwrap().success());
    let huge = rollup.lines().find(|l| l.starts_with("AnonHugePages:")).expect("smaps_rollup has AnonHugePages");
    assert_eq!(huge.split_whitespace().nth(1), Some("0"), "{huge}");
}

#[test]
fn the_command_fuses_as_told_and_shows_each_node_s_thread() {
    let manifest = manifest_file(
        "fused.toml",
        "[input]\nsequence = { start = 1, count = 1000 }\n\n[[node]]\nid = \"double\"\nrust = \"calculator\"\n\
         params = { operation = \"multiply\", operand = 2 }\n\n[[node]]\nid = \"format\"\nrust = \"text\"\n\
         params = { operation = \"format\", template = \"n={}\" }\n",
    );
    let mut outputs = Vec::new();
    for (fuse, threads) in [("always", ["0", "0"]), ("never", ["0", "1"])] {
        let out = Command::new(env!("CARGO_BIN_EXE_nodehost"))
            .args(["run", "--stats", "--line-buffered", "--fuse", fuse])
            .arg(&manifest)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        for (node, thread) in ["double", "format"].iter().zip(threads) {
            let row = stderr.lines().find(|l| l.starts_with(node)).unwrap_or_else(|| panic!("no row for {node}: {stderr}"));
            assert_eq!(row.split_whitespace().nth(2), Some(thread), "fuse {fuse}: {row}");
        }
        outputs.push(String::from_utf8(out.stdout).unwrap());
    }
    let expected: String = (1..=1000).map(|n| format!("\"n={}\"\n", 2 * n)).collect();
    assert_eq!(outputs, [expected.clone(), expected]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_skips_many_failures_keeps_the_first_thousand_and_counts_the_rest() {
    let probes = test_python("probes.py");
    let text = format!(
        "[[node]]\nid = \"raiser\"\npython = \"{}\"\nclass = \"Raiser\"\non_error = \"skip\"\n",
        probes.display()
    );
    let pipeline = manifest::parse(&text, &probes.with_file_name("p.toml")).unwrap();
    let inputs: Vec<Value> = (0..1100).map(|_| Value::from("boom")).chain([Value::Int(1)]).collect();
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs).await.unwrap();
    assert_eq!(outputs.len(), 1, "the item that did not fail still came out");
    assert_eq!(report.failures.len(), nodehost::pipeline::MAX_KEPT_FAILURES);
    assert_eq!(report.failures_not_kept, 100);
    assert!(matches!(report.failures[0], Error::Node { stage: Stage::Item(1), .. }), "{}", report.failures[0]);
    assert!(report.to_string().contains("... and 100 more failed items, not kept"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_names_the_node_and_the_item_and_stops_the_run() {
    let path = manifest_file(
        "raise.toml",
        r#"
[[node]]
id = "first"
rust = "pass-through"

[[node]]
id = "raiser"
python = "{tests}/probes.py"
class = "Raiser"
"#,
    );
    for runtime in PYTHON_RUNTIMES {
        let mut pipeline = manifest::load(&path).unwrap();
        pipeline.set_python_runtime(runtime);
        let inputs = vec![1.into(), 2.into(), "boom".into(), 4.into()];
        let err = nodehost::run_collect(&pipeline, engine(), inputs).await.unwrap_err();
        let Error::Node { node, stage, failure: NodeFailure::Guest(e) } = &err else { panic!("{runtime}: {err:?}") };
        assert_eq!((node.as_str(), *stage), ("raiser", Stage::Item(3)), "{runtime}");
        assert_eq!(e.exception_type.as_deref(), Some("ValueError"));
        let text = err.to_string();
        assert!(text.starts_with("node 'raiser' failed on item 3: ValueError: cannot process 'boom'"), "{text}");
        assert!(text.contains("Traceback (most recent call last)"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_cannot_be_created_stops_the_run_before_any_input() {
    let path = manifest_file(
        "create.toml",
        r#"
[[node]]
id = "ok"
rust = "pass-through"

[[node]]
id = "broken"
python = "{examples}/corpus/transform.py"
params = { operation = "cube" }
"#,
    );
    let pipeline = manifest::load(&path).unwrap();
    let err = nodehost::run_collect(&pipeline, engine(), vec![1.into()]).await.unwrap_err();
    let Error::Node { node, stage, .. } = &err else { panic!("{err:?}") };
    assert_eq!((node.as_str(), *stage), ("broken", Stage::Create));
    assert!(err.to_string().contains("ValueError: unknown operation 'cube'"), "{err}");
}

#[test]
fn manifest_errors_say_where_and_what() {
    let cases: &[(&str, &str)] = &[
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\nparam = {}\n", "line 4, column 1: unknown field `param`"),
        ("[[node]]\nid = 5\nrust = \"gain\"\n", "line 2, column 6: invalid type: integer `5`, expected a string"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\nruntime = \"jvm\"\n", "line 4, column 11: node 'a': unknown runtime 'jvm' (wasm, "),
        ("[[node]]\nid = \"a\"\npython = \"missing.py\"\n", "line 3, column 10: Python file 'missing.py' not found"),
        ("[[node]]\nid = \"a\"\nrust = \"gian\"\n", "line 2, column 6: node 'a': no built-in Rust node 'gian'"),
        ("[[node]]\nid = \"a\"\n", "needs exactly one of 'python'"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\n[[node]]\nid = \"a\"\nrust = \"gain\"\n", "line 5, column 6: node id 'a' is used twice"),
        (
            "[[node]]\nid = \"a\"\nrust = \"gain\"\ninputs = [\"b\"]\n[[node]]\nid = \"b\"\nrust = \"gain\"\ninputs = [\"a\"]\n",
            "the nodes form a cycle: a -> b -> a",
        ),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\ninputs = [\"zz\"]\n", "line 4, column 11: node 'a': no node 'zz' to take input from"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\nruntime = \"cpython\"\n", "runtime 'cpython' cannot run a built-in Rust node (use one of: wasm, native)"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\npolicy = { timeout = \"18000000000000000000s\" }\n", "above the limit"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\nruntime = \"native\"\n", "line 2, column 6: node 'a' asks for the un-sandboxed 'native' runtime"),
        ("[output]\nfile = \"/tmp/x.jsonl\"\n[[node]]\nid = \"a\"\nrust = \"gain\"\n", "[output] file /tmp/x.jsonl is outside the manifest's directory"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\npolicy = { memory = \"lots\" }\n", "'lots' is not a size"),
        ("[[node]]\nid = \"a\"\nrust = \"gain\"\npolicy = { timeout = \"5\" }\n", "needs a unit"),
        ("[input]\nvalues = [1]\nsequence = { count = 3 }\n[[node]]\nid = \"a\"\nrust = \"gain\"\n", "exactly one of values"),
        ("name = \"x\"\n", "missing field `node`"),
        ("[[node]]\nid = \"input\"\nrust = \"gain\"\n", "not 'input'"),
    ];
    for (text, needle) in cases {
        let err = parse_err(text);
        assert!(err.starts_with("/nowhere/p.toml: "), "{err}");
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
}

/// A manifest in a fresh directory, with `sub/` and a file in it.
fn manifest_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("node.py"), "class Echo:\n    def process(self, x):\n        return x\n").unwrap();
    let path = dir.path().join("p.toml");
    (dir, path)
}

#[test]
fn unsandboxed_nodes_need_the_operator_and_the_manifest_to_agree() {
    let (_dir, path) = manifest_dir();
    let text = |trusted: bool| {
        format!("[[node]]\nid = \"py\"\npython = \"node.py\"\nruntime = \"cpython\"\ntrusted = {trusted}\n")
    };
    let open = manifest::HostPermissions { allow_unsandboxed: true, ..Default::default() };
    let closed = manifest::HostPermissions::default();
    let refused = manifest::parse_with(&text(true), &path, &closed).unwrap_err().to_string();
    assert!(refused.contains("node 'py' asks for the un-sandboxed 'cpython' runtime") && refused.contains("--allow-unsandboxed"), "{refused}");
    let untrusted = manifest::parse_with(&text(false), &path, &open).unwrap_err().to_string();
    assert!(untrusted.contains("not marked trusted = true"), "{untrusted}");
    let p = manifest::parse_with(&text(true), &path, &open).unwrap();
    assert_eq!(p.nodes[0].spec.runtime, Runtime::Cpython);
}

#[test]
fn grants_and_outputs_outside_the_manifest_need_the_operator() {
    let (dir, path) = manifest_dir();
    let grant = |host: &str| {
        format!("[[node]]\nid = \"a\"\nrust = \"gain\"\npolicy = {{ dirs = [{{ host = \"{host}\", guest = \"/d\" }}] }}\n")
    };
    let closed = manifest::HostPermissions::default();
    // Inside the manifest's directory: fine, and resolved.
    let p = manifest::parse_with(&grant("sub"), &path, &closed).unwrap();
    assert_eq!(p.nodes[0].spec.policy.dirs[0].host, dir.path().join("sub").canonicalize().unwrap());
    // Escapes: `..`, an absolute path, the root, a symlink out.
    std::os::unix::fs::symlink("/", dir.path().join("sub/out")).unwrap();
    for host in ["..", "sub/../..", "/", "/etc", "sub/out"] {
        let err = manifest::parse_with(&grant(host), &path, &closed).unwrap_err().to_string();
        assert!(err.contains("is outside the manifest's directory") && err.contains("--allow-dir"), "{host}: {err}");
    }
    // The operator may allow a directory, and everything under it.
    let open = manifest::HostPermissions { allowed_dirs: vec!["/etc".into()], ..Default::default() };
    assert!(manifest::parse_with(&grant("/etc"), &path, &open).is_ok());
    assert!(manifest::parse_with(&grant("/"), &path, &open).is_err());
    // The output file too.
    let output = |file: &str| format!("[output]\nfile = \"{file}\"\n[[node]]\nid = \"a\"\nrust = \"gain\"\n");
    assert!(manifest::parse_with(&output("sub/out.jsonl"), &path, &closed).is_ok());
    let err = manifest::parse_with(&output("../out.jsonl"), &path, &closed).unwrap_err().to_string();
    assert!(err.contains("[output] file") && err.contains("outside the manifest's directory"), "{err}");
}

#[test]
fn manifest_defaults() {
    let p = manifest::parse("[[node]]\nid = \"a\"\nrust = \"gain\"\n[[node]]\nid = \"b\"\nrust = \"rms\"\n", Path::new("p.toml")).unwrap();
    assert_eq!(p.input, InputSpec::Stdin);
    assert_eq!(p.nodes[0].spec.runtime, Runtime::Wasm);
    assert_eq!(p.nodes[0].inputs, [manifest::Upstream::Input]);
    assert_eq!(p.nodes[1].inputs, [manifest::Upstream::Node(0)]);
    assert_eq!(p.nodes[1].spec.policy, nodehost::SandboxPolicy::default());
    assert_eq!(p.name, "p");
}

#[test]
fn audio_input_from_standard_input_or_raw_pcm() {
    let node = "[[node]]\nid = \"a\"\nrust = \"gain\"\n";
    let parse = |input: &str| manifest::parse(&format!("[input]\n{input}\n{node}"), Path::new("p.toml"));
    let p = parse("wav = \"-\"\nframe = 160").unwrap();
    assert_eq!(p.input, InputSpec::Audio { source: AudioSource::WavStdin, frame: manifest::FrameSize::Samples(160) });
    let p = parse("pcm = \"-\"\nsample_rate = 8000\nchannels = 2\nencoding = \"f32le\"").unwrap();
    let format = manifest::PcmFormat { sample_rate: 8000, channels: 2, encoding: manifest::PcmEncoding::F32Le };
    assert_eq!(p.input, InputSpec::Audio { source: AudioSource::Pcm { path: None, format }, frame: manifest::FrameSize::Millis(20.0) });
    for (input, says) in [
        ("pcm = \"-\"", "needs its sample_rate"),
        ("pcm = \"-\"\nsample_rate = 10", "outside 1000..=384000"),
        ("pcm = \"-\"\nsample_rate = 8000\nchannels = 0", "channels 0"),
        ("pcm = \"-\"\nsample_rate = 8000\nencoding = \"mulaw\"", "unknown PCM encoding 'mulaw' (one of: s16le, f32le)"),
        ("wav = \"-\"\nsample_rate = 8000", "apply to pcm input only"),
        ("values = [1]\nframe_ms = 20", "apply to wav and pcm input only"),
        ("wav = \"-\"\npcm = \"-\"\nsample_rate = 8000", "exactly one of"),
        ("pcm = \"missing.raw\"\nsample_rate = 8000", "missing.raw"),
    ] {
        let err = parse(input).unwrap_err().to_string();
        assert!(err.contains(says), "{input}: {err}");
    }
}
