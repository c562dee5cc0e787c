//! The report's `voice/` group: the voice example (`examples/voice/`) over
//! its whole test set, as one stream, in each runtime mix, next to the
//! same work as a CPython user would write it (`plain_pipeline.py`: one
//! process, one thread, the same node classes) and the plain one-file
//! pocketsphinx script (`plain_recognize.py`, accuracy only).
//!
//! The stream: every test WAV converted to 16 kHz mono (by the `resample`
//! node, natively) with half a second of silence after each, as raw s16le.
//! Two runs per configuration:
//! - as fast as it goes (the median of three runs): command accuracy
//!   (`score.py`), real-time factor (wall time over audio time), CPU per
//!   second of audio and peak RSS; and each test file on its own, for the
//!   accuracy the plain pocketsphinx script is measured at;
//! - paced at real time (20 ms chunks on standard input, as from a
//!   microphone), over the stream's first [`PACED_SECONDS`]: latency from
//!   the end of each utterance's speech to its record on standard output.
//!   It includes the segmenter's hangover (350 ms of silence that tell an
//!   utterance has ended).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nodehost::{Runtime, Value};
use serde::{Deserialize, Serialize};

use crate::throughput::{Feeder, ProcessRun, python_interpreter, run_process_with};
use crate::{create, example, rust_node};

/// Seconds of the stream the paced runs play.
pub const PACED_SECONDS: f64 = 20.0;

/// Timed runs per configuration (the median counts).
const RUNS: usize = 3;

/// Silence played before the paced runs' audio.
const LEAD_SECONDS: f64 = 2.0;

/// Silence after each test file in the stream.
const GAP_SECONDS: f64 = 0.5;

const RATE: u32 = 16000;

/// One way to run the voice work.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The row's name.
    pub name: &'static str,
    /// `None`: the plain single-thread CPython script.
    runtimes: Option<Mix>,
}

/// Which runtimes a nodehost run uses.
#[derive(Debug, Clone, Copy)]
enum Mix {
    /// The manifest as written: Rust and Python nodes sandboxed, the
    /// recognizer on trusted CPython.
    AsWritten,
    /// Every Python node on trusted CPython, Rust nodes native.
    AllTrusted,
    /// The segmenter and intent parser in the CPython sandbox.
    WasmCpython,
}

/// Every configuration, the plain CPython script first (the reference).
pub const CONFIGS: [Config; 4] = [
    Config { name: "plain CPython script (one thread)", runtimes: None },
    Config { name: "nodehost: all CPython, Rust native (trusted)", runtimes: Some(Mix::AllTrusted) },
    Config { name: "nodehost: sandboxed (RustPython + Rust in wasm; recognizer trusted)", runtimes: Some(Mix::AsWritten) },
    Config { name: "nodehost: sandboxed (wasm-cpython + Rust in wasm; recognizer trusted)", runtimes: Some(Mix::WasmCpython) },
];

/// One configuration, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoiceRow {
    pub config: String,
    /// Commands whose action record was right, of `total`, in the stream.
    pub correct: u64,
    /// The same, each test file run on its own.
    pub correct_per_file: Option<u64>,
    pub total: u64,
    /// Utterances that matched no command.
    pub extra: u64,
    pub audio_seconds: f64,
    /// Wall time over audio time, as fast as it goes (start-up included).
    pub real_time_factor: f64,
    /// CPU (user + system) per second of audio, in milliseconds.
    pub cpu_ms_per_audio_second: f64,
    pub peak_rss_mib: f64,
    /// End of speech to record, paced at real time: p50 and p95.
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    /// The plain script's wall time over this one's (above 1: faster).
    pub speedup_vs_plain: Option<f64>,
    pub error: Option<String>,
}

/// The stream and what it holds.
pub struct Stream {
    /// Raw s16le, 16 kHz mono.
    pub pcm: Vec<u8>,
    pub seconds: f64,
    /// `expected.jsonl` for the stream as one file, `stream`.
    pub expected: PathBuf,
}

fn testset() -> PathBuf {
    example("voice/testset")
}

fn venv_python() -> PathBuf {
    example("voice/.venv/bin/python")
}

/// Makes the stream (and its expected commands) in `dir`.
pub fn stream(dir: &Path) -> Result<Stream, String> {
    let expected_text = std::fs::read_to_string(testset().join("expected.jsonl")).map_err(|e| e.to_string())?;
    let mut samples: Vec<f32> = Vec::new();
    let mut commands = Vec::new();
    for line in expected_text.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let wav = testset().join(entry["wav"].as_str().ok_or("expected.jsonl: no wav")?);
        let offset = samples.len() as f64 / f64::from(RATE);
        let reader = nodehost::value::wav::WavReader::open(&wav).map_err(|e| format!("{}: {e}", wav.display()))?;
        // A resampler per file: each may have its own rate.
        let mut resample = create(&rust_node("resample", &[("rate", Value::Int(i64::from(RATE)))], Runtime::Native));
        let mut out = Vec::new();
        for frame in reader.frames(4096) {
            let frame = frame.map_err(|e| format!("{}: {e}", wav.display()))?;
            resample.process(Value::Audio(frame), &mut out).map_err(|e| e.to_string())?;
        }
        resample.flush(&mut out).map_err(|e| e.to_string())?;
        for v in out {
            if let Value::Audio(a) = v {
                samples.extend(a.samples);
            }
        }
        samples.extend(std::iter::repeat_n(0.0, (GAP_SECONDS * f64::from(RATE)) as usize));
        for command in entry["commands"].as_array().ok_or("expected.jsonl: no commands")? {
            let mut command = command.clone();
            for key in ["start", "end"] {
                command[key] = (command[key].as_f64().unwrap_or(0.0) + offset).into();
            }
            commands.push(command);
        }
    }
    let pcm: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((f64::from(*s) * 32768.0).round().clamp(-32768.0, 32767.0) as i16).to_le_bytes())
        .collect();
    let expected = dir.join("expected.jsonl");
    let line = serde_json::json!({ "wav": "stream", "commands": commands });
    std::fs::write(&expected, format!("{line}\n")).map_err(|e| e.to_string())?;
    Ok(Stream { seconds: samples.len() as f64 / f64::from(RATE), pcm, expected })
}

/// The command of `config`, reading raw PCM from `input` (`-`: stdin), or
/// a WAV file when `input` ends in `.wav`.
fn command(config: &Config, input: &str) -> Command {
    match config.runtimes {
        None => {
            let mut c = Command::new(venv_python());
            c.arg("-W").arg("ignore").arg(example("voice/plain_pipeline.py"));
            if !input.ends_with(".wav") {
                c.args(["--pcm", input, "--sample-rate", "16000"]);
            } else {
                c.arg(input);
            }
            // Its output is read as it comes (the paced runs time it).
            c.env("PYTHONUNBUFFERED", "1");
            c
        }
        Some(_) => {
            let mut c = Command::new(std::env::current_exe().expect("the bench's own path"));
            c.arg("--child").arg(format!("voice:{}:{input}", config.name));
            c
        }
    }
}

/// The child process of one nodehost configuration: `NAME:INPUT`.
pub fn child(spec: &str) {
    let (name, input) = spec.rsplit_once(':').expect("voice child: NAME:INPUT");
    let config = CONFIGS.iter().find(|c| c.name == name).expect("voice child: unknown configuration");
    let permissions = nodehost::manifest::HostPermissions { allow_unsandboxed: true, ..Default::default() };
    let mut pipeline = nodehost::manifest::load_with(&example("voice/pipeline.toml"), &permissions).expect("voice manifest");
    match config.runtimes.expect("a nodehost configuration") {
        Mix::AsWritten => {}
        Mix::AllTrusted => {
            pipeline.set_python_runtime(Runtime::Cpython);
            pipeline.set_rust_runtime(Runtime::Native);
        }
        Mix::WasmCpython => {
            for node in &mut pipeline.nodes {
                if node.spec.id == "segment" || node.spec.id == "intent" {
                    node.spec.runtime = Runtime::WasmCpython;
                }
            }
        }
    }
    let source = if input.ends_with(".wav") {
        nodehost::manifest::AudioSource::WavFile(input.into())
    } else {
        let format = nodehost::manifest::PcmFormat::new(Some(RATE), Some(1), None).expect("the stream's format");
        nodehost::manifest::AudioSource::Pcm { path: (input != "-").then(|| PathBuf::from(input)), format }
    };
    pipeline.input = nodehost::manifest::InputSpec::Audio { source, frame: nodehost::manifest::FrameSize::Millis(20.0) };
    let engine = nodehost::WasmEngine::shared().expect("engine");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(nodehost::run_pipeline(&pipeline, engine, &pipeline.output, true)).expect("voice run");
}

/// `score.py`'s verdict on `records` (JSON lines, each with its "wav")
/// against `expected`: (correct, total, extra).
fn score(expected: &Path, records: &[serde_json::Value], dir: &Path) -> Result<(u64, u64, u64), String> {
    let file = dir.join("results.jsonl");
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let out = Command::new(python_interpreter())
        .arg(example("voice/score.py"))
        .arg(expected)
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("score.py: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok((n("correct"), n("total"), n("extra")))
}

fn parse_lines(bytes: &[u8]) -> Result<Vec<serde_json::Value>, String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("not a JSON line: {l:?}: {e}")))
        .collect()
}

/// Plays `pcm` into the child at real time, in 20 ms chunks.
fn paced(pcm: Vec<u8>, start: Arc<Mutex<Option<Instant>>>) -> Feeder {
    Box::new(move |mut stdin| {
        let chunk = (RATE as usize / 50) * 2;
        let began = Instant::now();
        *start.lock().unwrap() = Some(began);
        for (k, piece) in pcm.chunks(chunk).enumerate() {
            let due = began + Duration::from_millis(20 * k as u64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if stdin.write_all(piece).is_err() {
                return;
            }
        }
    })
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

/// Measure every available configuration.
pub fn measure(mut progress: impl FnMut(&str)) -> Vec<VoiceRow> {
    let dir = match tempfile::Builder::new().prefix("nodehost-bench-voice-").tempdir() {
        Ok(dir) => dir,
        Err(e) => return vec![failed("stream", e.to_string())],
    };
    if !venv_python().exists() {
        return vec![failed("setup", "examples/voice/.venv is missing: run scripts/setup-voice.sh".into())];
    }
    let stream = match stream(dir.path()) {
        Ok(s) => s,
        Err(e) => return vec![failed("stream", e)],
    };
    let raw = dir.path().join("stream.raw");
    if let Err(e) = std::fs::write(&raw, &stream.pcm) {
        return vec![failed("stream", e.to_string())];
    }
    let raw_arg = raw.to_string_lossy().into_owned();
    let mut rows: Vec<VoiceRow> = Vec::new();
    let mut plain_wall: Option<Duration> = None;
    for config in &CONFIGS {
        if config.runtimes.is_some_and(|m| matches!(m, Mix::WasmCpython)) && !Runtime::WasmCpython.is_available() {
            continue;
        }
        progress(config.name);
        let measured = (|| -> Result<VoiceRow, String> {
            // A first run fills the compiled-code cache; of the next
            // three, the median by wall time counts.
            run_process_with(command(config, &raw_arg), None, |_| {})?;
            let mut runs = Vec::new();
            for _ in 0..RUNS {
                let mut out = Vec::new();
                let run: ProcessRun = run_process_with(command(config, &raw_arg), None, |b| out.extend_from_slice(b))?;
                runs.push((run, out));
            }
            runs.sort_by_key(|(run, _)| run.wall);
            let (run, out) = runs.swap_remove(RUNS / 2);
            let records = labelled(parse_lines(&out)?, "stream");
            let (correct, total, extra) = score(&stream.expected, &records, dir.path())?;
            // Each test file on its own, as the plain pocketsphinx script
            // takes them (a stream carries the recognizer's adaptation from
            // one command to the next).
            let mut per_file = Vec::new();
            for wav in test_wavs()? {
                let mut out = Vec::new();
                run_process_with(command(config, &wav.to_string_lossy()), None, |b| out.extend_from_slice(b))?;
                let name = wav.file_name().unwrap_or_default().to_string_lossy().into_owned();
                per_file.extend(labelled(parse_lines(&out)?, &name));
            }
            let (correct_per_file, _, _) = score(&testset().join("expected.jsonl"), &per_file, dir.path())?;
            // Paced: the stream's first PACED_SECONDS at real time.
            let paced_bytes = ((PACED_SECONDS.min(stream.seconds) * f64::from(RATE)) as usize) * 2;
            let start = Arc::new(Mutex::new(None));
            let arrivals = Arc::new(Mutex::new(Vec::new()));
            let mut pending = Vec::new();
            // Led by silence, so the process has started before the first
            // utterance (the records' times count the lead).
            let mut played = vec![0u8; (LEAD_SECONDS * f64::from(RATE)) as usize * 2];
            played.extend_from_slice(&stream.pcm[..paced_bytes]);
            let feeder = paced(played, Arc::clone(&start));
            let seen = Arc::clone(&arrivals);
            run_process_with(command(config, "-"), Some(feeder), |b| {
                pending.extend_from_slice(b);
                while let Some(end) = pending.iter().position(|&c| c == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    seen.lock().unwrap().push((Instant::now(), line));
                }
            })?;
            let began = start.lock().unwrap().ok_or("the paced run never started")?;
            let mut latencies: Vec<f64> = Vec::new();
            for (at, line) in arrivals.lock().unwrap().iter() {
                let record: serde_json::Value =
                    serde_json::from_slice(line).map_err(|e| format!("paced output {:?}: {e}", String::from_utf8_lossy(line)))?;
                if let Some(end) = record["end"].as_f64() {
                    let speech_end = began + Duration::from_secs_f64(end);
                    latencies.push(at.saturating_duration_since(speech_end).as_secs_f64() * 1000.0);
                }
            }
            latencies.sort_by(f64::total_cmp);
            if config.runtimes.is_none() {
                plain_wall = Some(run.wall);
            }
            Ok(VoiceRow {
                config: config.name.into(),
                correct,
                correct_per_file: Some(correct_per_file),
                total,
                extra,
                audio_seconds: stream.seconds,
                real_time_factor: run.wall.as_secs_f64() / stream.seconds,
                cpu_ms_per_audio_second: run.cpu.as_secs_f64() * 1000.0 / stream.seconds,
                peak_rss_mib: run.peak_rss as f64 / f64::from(1 << 20),
                latency_p50_ms: percentile(&latencies, 0.5),
                latency_p95_ms: percentile(&latencies, 0.95),
                speedup_vs_plain: plain_wall.map(|p| p.as_secs_f64() / run.wall.as_secs_f64()),
                error: None,
            })
        })();
        rows.push(measured.unwrap_or_else(|e| failed(config.name, e)));
    }
    rows.push(plain_recognizer(dir.path()));
    rows
}

/// The plain one-file pocketsphinx script on the test WAVs: accuracy.
fn plain_recognizer(dir: &Path) -> VoiceRow {
    let name = "plain pocketsphinx script (its own segmenter; accuracy only)";
    let measured = (|| -> Result<VoiceRow, String> {
        let wavs = test_wavs()?;
        let out = Command::new(venv_python())
            .arg("-W")
            .arg("ignore")
            .arg(example("voice/plain_recognize.py"))
            .args(&wavs)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let records = parse_lines(&out.stdout)?;
        let (correct, total, extra) = score(&testset().join("expected.jsonl"), &records, dir)?;
        Ok(VoiceRow { correct_per_file: Some(correct), total, extra, ..failed(name, String::new()) })
    })();
    match measured {
        Ok(row) => VoiceRow { error: None, ..row },
        Err(e) => failed(name, e),
    }
}

/// The test set's WAV files, in order.
fn test_wavs() -> Result<Vec<PathBuf>, String> {
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(testset())
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    wavs.sort();
    Ok(wavs)
}

/// `records` with their "wav" set to `wav`.
fn labelled(records: Vec<serde_json::Value>, wav: &str) -> Vec<serde_json::Value> {
    records
        .into_iter()
        .map(|mut r| {
            r["wav"] = wav.into();
            r
        })
        .collect()
}

fn failed(config: &str, error: String) -> VoiceRow {
    VoiceRow {
        config: config.into(),
        correct: 0,
        correct_per_file: None,
        total: 0,
        extra: 0,
        audio_seconds: 0.0,
        real_time_factor: 0.0,
        cpu_ms_per_audio_second: 0.0,
        peak_rss_mib: 0.0,
        latency_p50_ms: None,
        latency_p95_ms: None,
        speedup_vs_plain: None,
        error: Some(error),
    }
}
