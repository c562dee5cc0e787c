//! Pipeline manifests: TOML in, a checked [`Pipeline`] out. Every error
//! names the file, the line and column, and what was expected.
//!
//! ```toml
//! name = "demo"
//! fuse = "auto"           # or "always" / "never": which chains of nodes share a thread
//!
//! [input]
//! wav = "speech.wav"      # or values = [...], sequence = { count = 10 }, jsonl = "in.jsonl", stdin = true
//! frame_ms = 20           # audio frames (or frame = samples); wav = "-" reads a WAV stream on stdin;
//! # pcm = "-"             # raw PCM (a file, or "-": stdin) with sample_rate = 16000, channels = 1, encoding = "s16le"
//!
//! [output]
//! format = "text"         # or "jsonl" (the default); file = "out.jsonl" (default: stdout)
//!
//! [[node]]
//! id = "gain"
//! rust = "gain"           # a built-in Rust node
//! params = { db = 6.0 }
//!
//! [[node]]
//! id = "vad"
//! python = "vad.py"       # a Python file (or a package directory, "mynode/"); class = "VoiceActivity" when it has several
//! runtime = "wasm"        # the default; or "auto" (see `auto`), wasm-cpython, native-rustpython, cpython
//! # prefer = "speed"      # with runtime = "auto": the CPython sandbox first ("sandbox": the RustPython one, whatever it imports)
//! # trusted = true        # may run un-sandboxed, where the host allows it
//! # venv = ".venv"        # cpython only: a virtual environment to import from
//! policy = { memory = "64MiB", timeout = "500ms" }
//! on_error = "restart"    # or "fail" (the default) or "skip"
//! thread = "own"          # never fused with its neighbours (default "shared")
//! inputs = ["gain"]       # the default: the node listed before (or the input)
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nodehost_sdk::{Map, Value};
use serde::Deserialize;
use toml::Spanned;

pub use crate::value::pcm::{PcmEncoding, PcmFormat};

pub mod auto;
mod trust;

pub use self::trust::HostPermissions;
use crate::error::Error;
use crate::factory::{NodeSource, NodeSpec, Runtime};
use crate::policy::SandboxPolicy;

/// A checked pipeline, ready to run.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The manifest's `name`, or its file name without extension.
    pub name: String,
    /// Nodes in an order where every node comes after its inputs.
    pub nodes: Vec<PipelineNode>,
    /// What feeds the pipeline.
    pub input: InputSpec,
    /// Where outputs go and how they are written.
    pub output: OutputSpec,
    /// Which linear chains of nodes run fused on one thread (the
    /// manifest's `fuse`; see [`Fuse`] and [`Threading`]).
    pub fuse: Fuse,
}

/// One node of a pipeline and where its inputs come from.
#[derive(Debug, Clone)]
pub struct PipelineNode {
    /// How to create the node: its id, code and runtime.
    pub spec: NodeSpec,
    /// Where the node's items come from.
    pub inputs: Vec<Upstream>,
    /// What to do when one of the node's items fails.
    pub on_error: OnError,
    /// Whether the node may share a thread with its neighbours.
    pub thread: Threading,
    /// `runtime = "auto"`: the runtime in `spec` is a placeholder until
    /// [`auto::choose_runtimes`] picks one.
    pub auto: Option<AutoRuntime>,
}

/// What a `runtime = "auto"` node asks of the choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRuntime {
    /// `prefer = "speed"`: the CPython sandbox before the RustPython one.
    pub prefer_speed: bool,
    /// `prefer = "sandbox"`, said: the RustPython sandbox first even for a
    /// node that imports a module it runs far slower than the CPython
    /// sandbox (see [`auto`]).
    pub prefer_sandbox: bool,
    /// `trusted = true`: the node may end up un-sandboxed, on `cpython`,
    /// where the host allows it and no sandbox can run it.
    pub trusted: bool,
}

/// Which neighbours in a linear chain (each node the only consumer of the
/// one before, and fed only by it) run fused on one thread: items go down a
/// fused chain with no channel and no thread wake-up between its nodes,
/// but its nodes share one core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fuse {
    /// Fuse where measurements say it pays: neighbours that both run on
    /// CPython (they would only pass its global lock back and forth), both
    /// native Rust (each call costs less than a hop between threads), or
    /// any neighbours on a machine with one core. Sandboxed and RustPython
    /// nodes keep their own threads, so a chain of them uses every core.
    #[default]
    Auto,
    /// Fuse every chain.
    Always,
    /// Every node on its own thread.
    Never,
}

/// Whether a node may run on one thread with its neighbours (see [`Fuse`]).
/// A node costly enough to be worth a core of its own says `thread =
/// "own"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Threading {
    /// Fused with its chain neighbours when they allow it too (the default).
    #[default]
    Shared,
    /// Always on a thread of its own.
    Own,
}

/// What the pipeline does when one of a node's items fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop the pipeline with the error (the default).
    #[default]
    Fail,
    /// Report the item as failed and go on; a node whose instance was lost
    /// (a trap) is created afresh, with its state reset.
    Skip,
    /// Report the item as failed, create the node afresh (state reset) and go on.
    Restart,
}

/// Where a node's items come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// The pipeline's input.
    Input,
    /// Another node, by index into [`Pipeline::nodes`].
    Node(usize),
}

/// What feeds the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum InputSpec {
    /// These values, in order.
    Values(Vec<Value>),
    /// `count` ints from `start` by `step`.
    Sequence {
        /// The first int.
        start: i64,
        /// How many ints.
        count: u64,
        /// The difference between one int and the next.
        step: i64,
    },
    /// Audio cut into frames of `frame`.
    Audio {
        /// Where the audio comes from.
        source: AudioSource,
        /// How long each frame is.
        frame: FrameSize,
    },
    /// A file of JSON lines.
    JsonLines(PathBuf),
    /// JSON lines on standard input.
    Stdin,
}

/// Where an audio input comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioSource {
    /// A WAV file.
    WavFile(PathBuf),
    /// A WAV stream on standard input (`sox -d -t wav -`); its end is where
    /// the stream ends, whatever length its header says.
    WavStdin,
    /// Raw PCM from a file, or from standard input when `None`.
    Pcm {
        /// The file; `None` for standard input.
        path: Option<PathBuf>,
        /// What the samples are.
        format: PcmFormat,
    },
}

impl AudioSource {
    /// The source as the user named it: a path, or `stdin`.
    pub fn describe(&self) -> String {
        match self {
            AudioSource::WavFile(path) | AudioSource::Pcm { path: Some(path), .. } => path.display().to_string(),
            AudioSource::WavStdin | AudioSource::Pcm { path: None, .. } => "stdin".into(),
        }
    }
}

/// How long an audio input's frames are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameSize {
    /// This many samples per channel.
    Samples(usize),
    /// This many milliseconds, converted at the file's sample rate.
    Millis(f64),
}

/// Where outputs go and how they are written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputSpec {
    /// A file to write; standard output when `None`.
    pub file: Option<PathBuf>,
    /// How each output is written.
    pub format: OutputFormat,
}

/// How each output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// One JSON value per line.
    #[default]
    Jsonl,
    /// Strings as they are, other values as JSON; one per line.
    Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    name: Option<String>,
    input: Option<Spanned<InputSection>>,
    #[serde(default)]
    output: OutputSection,
    #[serde(rename = "node")]
    nodes: Spanned<Vec<NodeEntry>>,
    #[serde(default)]
    fuse: Fuse,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSection {
    values: Option<Vec<toml::Value>>,
    sequence: Option<SequenceSection>,
    wav: Option<Spanned<String>>,
    pcm: Option<Spanned<String>>,
    sample_rate: Option<u32>,
    channels: Option<u16>,
    encoding: Option<String>,
    frame: Option<usize>,
    frame_ms: Option<f64>,
    jsonl: Option<Spanned<String>>,
    stdin: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SequenceSection {
    #[serde(default)]
    start: i64,
    count: u64,
    #[serde(default = "one")]
    step: i64,
}

fn one() -> i64 {
    1
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OutputSection {
    file: Option<String>,
    #[serde(default)]
    format: OutputFormat,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    id: Spanned<String>,
    python: Option<Spanned<String>>,
    class: Option<String>,
    rust: Option<String>,
    component: Option<Spanned<String>>,
    #[serde(rename = "type")]
    node_type: Option<String>,
    runtime: Option<Spanned<String>>,
    /// With `runtime = "auto"`: "sandbox" (the default) or "speed".
    prefer: Option<Spanned<String>>,
    #[serde(default)]
    params: toml::Table,
    policy: Option<Spanned<SandboxPolicy>>,
    #[serde(default)]
    on_error: OnError,
    #[serde(default)]
    thread: Threading,
    inputs: Option<Vec<Spanned<String>>>,
    /// The manifest's author vouches for this node's code: with the host's
    /// permission it may run un-sandboxed.
    #[serde(default)]
    trusted: bool,
    /// A Python node on the `cpython` runtime: the virtual environment its
    /// packages come from.
    venv: Option<Spanned<String>>,
}

/// Read and check a manifest file, allowing only what a manifest may ask
/// for on its own (see [`HostPermissions`]). Relative paths in it are
/// relative to the file's directory.
///
/// # Errors
/// [`Error::Manifest`] with the line and column of what is wrong.
pub fn load(path: &Path) -> Result<Pipeline, Error> {
    load_with(path, &HostPermissions::default())
}

/// [`load`] with what the host's operator allows beyond that.
///
/// # Errors
/// [`Error::Manifest`] with the line and column of what is wrong.
pub fn load_with(path: &Path, permissions: &HostPermissions) -> Result<Pipeline, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Manifest {
        path: path.to_owned(),
        message: format!("cannot read: {e}"),
    })?;
    parse_with(&text, path, permissions)
}

/// Check a manifest's text; `path` names it in errors and anchors relative
/// paths. Allows only what a manifest may ask for on its own.
///
/// # Errors
/// [`Error::Manifest`] with the line and column of what is wrong.
pub fn parse(text: &str, path: &Path) -> Result<Pipeline, Error> {
    parse_with(text, path, &HostPermissions::default())
}

/// [`parse`] with what the host's operator allows beyond that.
///
/// # Errors
/// [`Error::Manifest`] with the line and column of what is wrong.
pub fn parse_with(text: &str, path: &Path, permissions: &HostPermissions) -> Result<Pipeline, Error> {
    let err = |span: Option<std::ops::Range<usize>>, message: String| {
        let message = match span {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                format!("line {line}, column {col}: {message}")
            }
            None => message,
        };
        Error::Manifest { path: path.to_owned(), message }
    };
    let file: ManifestFile = toml::from_str(text).map_err(|e| {
        // The toml error already says where; reword its header to ours.
        err(e.span(), e.message().to_owned())
    })?;
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // The directory grants and the output file must stay under, unless the host allows more.
    let resolved_base = trust::resolve(base);
    let resolve = |p: &Spanned<String>, what: &str| -> Result<PathBuf, Error> {
        let full = base.join(p.get_ref());
        if full.is_file() {
            Ok(full)
        } else {
            Err(err(Some(p.span()), format!("{what} '{}' not found (looked for {})", p.get_ref(), full.display())))
        }
    };

    // Nodes.
    if file.nodes.get_ref().is_empty() {
        return Err(err(Some(file.nodes.span()), "a pipeline needs at least one [[node]]".into()));
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, node) in file.nodes.get_ref().iter().enumerate() {
        let id = node.id.get_ref().as_str();
        let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid || id == "input" {
            return Err(err(
                Some(node.id.span()),
                format!("node id '{id}' must be letters, digits, '-' and '_', and not 'input'"),
            ));
        }
        if index.insert(id, i).is_some() {
            return Err(err(Some(node.id.span()), format!("node id '{id}' is used twice")));
        }
    }
    let mut specs = Vec::with_capacity(index.len());
    let mut inputs = Vec::with_capacity(index.len());
    let mut on_errors = Vec::with_capacity(index.len());
    let mut threads = Vec::with_capacity(index.len());
    let mut autos = Vec::with_capacity(index.len());
    for (i, node) in file.nodes.get_ref().iter().enumerate() {
        let id = node.id.get_ref().clone();
        let here = Some(node.id.span());
        let (source, default_runtime) = match (&node.python, &node.rust, &node.component) {
            (Some(py), None, None) => {
                if node.node_type.is_some() {
                    return Err(err(here, format!("node '{id}': 'type' is for components; a Python node names its 'class'")));
                }
                // A file (its sibling modules importable) or a package
                // directory, read with its locked dependencies into one
                // bundle now: nothing is read from disk once it runs.
                let full = base.join(py.get_ref());
                if !full.exists() {
                    let message = format!("Python file '{}' not found (looked for {})", py.get_ref(), full.display());
                    return Err(err(Some(py.span()), message));
                }
                let code = crate::package::load_node(&full).map_err(|e| {
                    err(Some(py.span()), format!("node '{id}': {}", crate::error::chain(&e)))
                })?;
                let class = node.class.clone().unwrap_or_default();
                let venv = match &node.venv {
                    None => None,
                    Some(venv) => {
                        let full = base.join(venv.get_ref());
                        if !full.join("pyvenv.cfg").is_file() {
                            let message = format!(
                                "node '{id}': '{}' is not a virtual environment (no pyvenv.cfg in {}); make one with `python3 -m venv {}`",
                                venv.get_ref(),
                                full.display(),
                                venv.get_ref()
                            );
                            return Err(err(Some(venv.span()), message));
                        }
                        Some(full)
                    }
                };
                (NodeSource::Python { file: code.file, source: Arc::from(code.text), class, venv }, Runtime::Wasm)
            }
            (None, Some(rust), None) => {
                if node.class.is_some() || node.node_type.is_some() {
                    return Err(err(here, format!("node '{id}': a built-in Rust node takes no 'class' or 'type'")));
                }
                let known: Vec<&str> = nodehost_rust_nodes::node_registry().names().collect();
                if !known.contains(&rust.as_str()) {
                    return Err(err(
                        here,
                        format!("node '{id}': no built-in Rust node '{rust}' (built-in: {})", known.join(", ")),
                    ));
                }
                (NodeSource::Builtin { node_type: rust.clone() }, Runtime::Wasm)
            }
            (None, None, Some(component)) => {
                if node.class.is_some() {
                    return Err(err(here, format!("node '{id}': a component node names its 'type', not a 'class'")));
                }
                let path = resolve(component, "component")?;
                (NodeSource::Component { path, node_type: node.node_type.clone().unwrap_or_default() }, Runtime::Wasm)
            }
            _ => {
                return Err(err(
                    here,
                    format!("node '{id}' needs exactly one of 'python' (a file), 'rust' (a built-in node) or 'component' (a .wasm file)"),
                ));
            }
        };
        let auto = match node.runtime.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
            Some(("auto", span)) => {
                if source.kind() != crate::factory::SourceKind::Python {
                    return Err(err(Some(span), format!("node '{id}': runtime \"auto\" is for Python nodes")));
                }
                let (prefer_speed, prefer_sandbox) = match node.prefer.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
                    None => (false, false),
                    Some(("sandbox", _)) => (false, true),
                    Some(("speed", _)) => (true, false),
                    Some((other, span)) => {
                        return Err(err(Some(span), format!("node '{id}': prefer = \"{other}\": use \"sandbox\" or \"speed\"")));
                    }
                };
                Some(AutoRuntime { prefer_speed, prefer_sandbox, trusted: node.trusted })
            }
            _ => {
                if let Some(prefer) = &node.prefer {
                    return Err(err(Some(prefer.span()), format!("node '{id}': 'prefer' applies to runtime = \"auto\" only")));
                }
                None
            }
        };
        let runtime = match &node.runtime {
            _ if auto.is_some() => default_runtime,
            None => default_runtime,
            Some(name) => name.get_ref().parse::<Runtime>().map_err(|e| err(Some(name.span()), format!("node '{id}': {e}, or auto")))?,
        };
        if !runtime.accepts(source.kind()) {
            return Err(err(
                here,
                format!(
                    "node '{id}': runtime '{runtime}' cannot run {} (use one of: {})",
                    source.kind().describe(),
                    Runtime::names_accepting(source.kind())
                ),
            ));
        }
        let params = Value::Map(node.params.iter().map(|(k, v)| (k.clone(), toml_to_value(v))).collect::<Map>());
        let ups = match &node.inputs {
            None if i == 0 => vec![Upstream::Input],
            None => vec![Upstream::Node(i - 1)],
            Some(list) if list.is_empty() => {
                return Err(err(here, format!("node '{id}': 'inputs' is empty; leave it out for the default")));
            }
            Some(list) => list
                .iter()
                .map(|up| match up.get_ref().as_str() {
                    "input" => Ok(Upstream::Input),
                    name if name == id => Err(err(Some(up.span()), format!("node '{id}' cannot take its own output"))),
                    name => index.get(name).map(|&j| Upstream::Node(j)).ok_or_else(|| {
                        err(Some(up.span()), format!("node '{id}': no node '{name}' to take input from"))
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let (mut policy, policy_span) = match &node.policy {
            Some(p) => (p.get_ref().clone(), Some(p.span())),
            None => (SandboxPolicy::default(), here.clone()),
        };
        if let Some(why) = permissions.refuse_runtime(&id, runtime, node.trusted).filter(|_| auto.is_none()) {
            return Err(err(here, why));
        }
        for dir in &mut policy.dirs {
            let full = base.join(&dir.host);
            let resolved = trust::resolve(&full).filter(|p| p.is_dir()).ok_or_else(|| {
                err(
                    policy_span.clone(),
                    format!("node '{id}': granted directory '{}' not found (looked for {})", dir.host.display(), full.display()),
                )
            })?;
            let base = resolved_base.as_deref().unwrap_or(base);
            if let Some(why) = permissions.refuse_path(&resolved, base, &format!("node '{id}': granted directory")) {
                return Err(err(policy_span.clone(), why));
            }
            dir.host = resolved;
        }
        policy.check().map_err(|m| err(policy_span.clone(), format!("node '{id}': policy: {m}")))?;
        specs.push(NodeSpec { id, source, runtime, params, policy });
        autos.push(auto);
        inputs.push(ups);
        on_errors.push(node.on_error);
        threads.push(node.thread);
    }
    let order = topological_order(&inputs).map_err(|cycle| {
        let names: Vec<&str> = cycle.iter().map(|&i| specs[i].id.as_str()).collect();
        err(
            Some(file.nodes.get_ref()[cycle[0]].id.span()),
            format!("the nodes form a cycle: {} -> {}", names.join(" -> "), names[0]),
        )
    })?;
    // Renumber into that order.
    let mut position = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }
    let nodes = order
        .iter()
        .map(|&old| PipelineNode {
            on_error: on_errors[old],
            thread: threads[old],
            auto: autos[old],
            spec: specs[old].clone(),
            inputs: inputs[old]
                .iter()
                .map(|u| match *u {
                    Upstream::Input => Upstream::Input,
                    Upstream::Node(j) => Upstream::Node(position[j]),
                })
                .collect(),
        })
        .collect();

    // Input and output.
    let input = match file.input {
        None => InputSpec::Stdin,
        Some(section) => {
            let span = Some(section.span());
            let s = section.into_inner();
            let given =
                [s.values.is_some(), s.sequence.is_some(), s.wav.is_some(), s.pcm.is_some(), s.jsonl.is_some(), s.stdin == Some(true)];
            if given.iter().filter(|&&g| g).count() != 1 {
                return Err(err(span, "[input] needs exactly one of values, sequence, wav, pcm, jsonl or stdin = true".into()));
            }
            let audio = s.wav.is_some() || s.pcm.is_some();
            if (s.frame.is_some() || s.frame_ms.is_some()) && !audio {
                return Err(err(span, "[input] frame and frame_ms apply to wav and pcm input only".into()));
            }
            if (s.sample_rate.is_some() || s.channels.is_some() || s.encoding.is_some()) && s.pcm.is_none() {
                return Err(err(span, "[input] sample_rate, channels and encoding apply to pcm input only".into()));
            }
            let (frame_samples, frame_ms, frame_span) = (s.frame, s.frame_ms, span.clone());
            let frame = move || match (frame_samples, frame_ms) {
                (Some(_), Some(_)) => Err(err(frame_span.clone(), "[input] give frame or frame_ms, not both".into())),
                (Some(0), None) => Err(err(frame_span.clone(), "[input] frame must be at least 1 sample".into())),
                (Some(n), None) => Ok(FrameSize::Samples(n)),
                (None, Some(ms)) if ms > 0.0 && ms.is_finite() => Ok(FrameSize::Millis(ms)),
                (None, Some(_)) => Err(err(frame_span.clone(), "[input] frame_ms must be a positive number".into())),
                (None, None) => Ok(FrameSize::Millis(20.0)),
            };
            if let Some(values) = s.values {
                InputSpec::Values(values.iter().map(toml_to_value).collect())
            } else if let Some(q) = s.sequence {
                InputSpec::Sequence { start: q.start, count: q.count, step: q.step }
            } else if let Some(wav) = &s.wav {
                let source =
                    if wav.get_ref() == "-" { AudioSource::WavStdin } else { AudioSource::WavFile(resolve(wav, "WAV file")?) };
                InputSpec::Audio { source, frame: frame()? }
            } else if let Some(pcm) = &s.pcm {
                let format = PcmFormat::new(s.sample_rate, s.channels, s.encoding.as_deref()).map_err(|why| err(span, why.to_string()))?;
                let path = if pcm.get_ref() == "-" { None } else { Some(resolve(pcm, "PCM file")?) };
                InputSpec::Audio { source: AudioSource::Pcm { path, format }, frame: frame()? }
            } else if let Some(jsonl) = &s.jsonl {
                InputSpec::JsonLines(resolve(jsonl, "JSON-lines file")?)
            } else {
                InputSpec::Stdin
            }
        }
    };
    let output_file = match file.output.file {
        None => None,
        Some(f) => {
            let full = base.join(&f);
            let dir = full.parent().and_then(trust::resolve).ok_or_else(|| {
                err(None, format!("[output] file '{f}': its directory {} does not exist", full.parent().unwrap_or(base).display()))
            })?;
            let resolved = dir.join(full.file_name().unwrap_or_default());
            if let Some(why) = permissions.refuse_path(&resolved, resolved_base.as_deref().unwrap_or(base), "[output] file") {
                return Err(err(None, why));
            }
            Some(resolved)
        }
    };
    let output = OutputSpec { file: output_file, format: file.output.format };
    let name = file.name.unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    Ok(Pipeline { name, nodes, input, output, fuse: file.fuse })
}

/// Kahn's algorithm, keeping the listed order among ready nodes. On a
/// cycle, returns the nodes on it.
fn topological_order(inputs: &[Vec<Upstream>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = inputs.len();
    let mut pending: Vec<usize> = inputs
        .iter()
        .map(|ups| ups.iter().filter(|u| matches!(u, Upstream::Node(_))).count())
        .collect();
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    while order.len() < n {
        let Some(next) = (0..n).find(|&i| !done[i] && pending[i] == 0) else {
            // Walk back along inputs from a stuck node until one repeats.
            let start = (0..n).find(|&i| !done[i]).expect("a stuck node");
            let mut path = vec![start];
            let mut at = start;
            loop {
                at = inputs[at]
                    .iter()
                    .find_map(|u| match *u {
                        Upstream::Node(j) if !done[j] => Some(j),
                        _ => None,
                    })
                    .expect("a stuck node has a stuck input");
                if let Some(pos) = path.iter().position(|&p| p == at) {
                    // In the direction data flows, starting from the first listed node.
                    let mut cycle = path[pos..].to_vec();
                    cycle.reverse();
                    let first = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
                    cycle.rotate_left(first);
                    return Err(cycle);
                }
                path.push(at);
            }
        };
        done[next] = true;
        order.push(next);
        for (i, ups) in inputs.iter().enumerate() {
            pending[i] -= ups.iter().filter(|u| **u == Upstream::Node(next)).count();
        }
    }
    Ok(order)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A TOML value as a pipeline value (dates become strings).
pub fn toml_to_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::Str(s.clone()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Str(d.to_string()),
        toml::Value::Array(items) => Value::List(items.iter().map(toml_to_value).collect()),
        toml::Value::Table(t) => Value::Map(t.iter().map(|(k, v)| (k.clone(), toml_to_value(v))).collect()),
    }
}

impl Pipeline {
    /// Run every Python node on `runtime` (to compare runtimes on one pipeline).
    pub fn set_python_runtime(&mut self, runtime: Runtime) {
        for node in &mut self.nodes {
            if matches!(node.spec.source, NodeSource::Python { .. }) {
                node.spec.runtime = runtime;
                node.auto = None;
            }
        }
    }

    /// Run every built-in Rust node on `runtime` (wasm or native).
    pub fn set_rust_runtime(&mut self, runtime: Runtime) {
        for node in &mut self.nodes {
            if matches!(node.spec.source, NodeSource::Builtin { .. }) {
                node.spec.runtime = runtime;
            }
        }
    }

    /// Indices of the nodes whose outputs leave the pipeline: those no other
    /// node takes input from.
    pub fn sinks(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| !self.nodes.iter().any(|n| n.inputs.contains(&Upstream::Node(i))))
            .collect()
    }
}
