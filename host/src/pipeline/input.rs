//! The pipeline's input: values, a sequence, audio (a WAV file or stream,
//! raw PCM) cut into frames, or JSON lines from a file or standard input,
//! read into a channel.
//!
//! Files and streams are read as the pipeline takes their items: audio
//! frame by frame (on a blocking thread, as its readers are blocking I/O),
//! JSON lines line by line, so the bounded channel holds back the reading
//! when the nodes fall behind, and an input of any length is never all in
//! memory.

use std::io::Read;
use std::path::Path;

use nodehost_sdk::Value;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::manifest::{AudioSource, FrameSize, InputSpec, PcmFormat};
use crate::pipeline::CHANNEL_CAPACITY;
use crate::value::pcm::PcmReader;
use crate::value::wav::{WavError, WavReader};

/// Read the pipeline's input as described by `spec` into a channel.
pub fn spawn_input(spec: &InputSpec) -> mpsc::Receiver<Result<Value, Error>> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let spec = spec.clone();
    tokio::spawn(async move {
        let send_all = |values: Vec<Result<Value, Error>>| {
            let tx = tx.clone();
            async move {
                for v in values {
                    if tx.send(v).await.is_err() {
                        break;
                    }
                }
            }
        };
        match spec {
            InputSpec::Values(values) => send_all(values.into_iter().map(Ok).collect()).await,
            InputSpec::Sequence { start, count, step } => {
                for k in 0..count as i64 {
                    let v = k.checked_mul(step).and_then(|x| x.checked_add(start));
                    let item = v.map(Value::Int).ok_or_else(|| Error::Input("sequence overflows 64-bit ints".into()));
                    if tx.send(item).await.is_err() {
                        break;
                    }
                }
            }
            InputSpec::Audio { source, frame } => {
                let reading = {
                    let (source, tx) = (source.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || send_audio(&source, frame, &tx))
                };
                // A panic would be a bug in the reader: say so rather than
                // end the input as if the audio had ended.
                if let Err(e) = reading.await {
                    let _ = tx.send(Err(Error::Input(format!("reading audio from {}: {e}", source.describe())))).await;
                }
            }
            InputSpec::JsonLines(path) => match tokio::fs::File::open(&path).await {
                Ok(file) => read_json_lines(tokio::io::BufReader::new(file), &path.display().to_string(), &tx).await,
                Err(e) => {
                    let _ = tx.send(Err(Error::io(format!("opening {}", path.display()), e))).await;
                }
            },
            InputSpec::Stdin => read_json_lines(tokio::io::BufReader::new(tokio::io::stdin()), "stdin", &tx).await,
        }
    });
    rx
}

/// Send the audio of `source` as frames of `frame`, each as soon as it is
/// read; an error ends the input after the frames before it.
fn send_audio(source: &AudioSource, frame: FrameSize, tx: &mpsc::Sender<Result<Value, Error>>) {
    let frames_at = |rate: u32| match frame {
        FrameSize::Samples(n) => n,
        FrameSize::Millis(ms) => ((f64::from(rate) * ms / 1000.0).round() as usize).max(1),
    };
    match source {
        AudioSource::WavFile(path) => match WavReader::open(path) {
            Ok(reader) => send_wav(reader, frames_at, path, false, tx),
            Err(e) => {
                let _ = tx.blocking_send(Err(Error::Wav { path: path.clone(), source: e }));
            }
        },
        AudioSource::WavStdin => match WavReader::new(std::io::stdin().lock()) {
            Ok(reader) => send_wav(reader, frames_at, Path::new("stdin"), true, tx),
            Err(e) => {
                let _ = tx.blocking_send(Err(Error::Wav { path: "stdin".into(), source: e }));
            }
        },
        AudioSource::Pcm { path: Some(path), format } => match std::fs::File::open(path) {
            Ok(file) => send_pcm(std::io::BufReader::new(file), *format, frames_at, &source.describe(), tx),
            Err(e) => {
                let _ = tx.blocking_send(Err(Error::io(format!("opening {}", path.display()), e)));
            }
        },
        AudioSource::Pcm { path: None, format } => send_pcm(std::io::stdin().lock(), *format, frames_at, "stdin", tx),
    }
}

/// Send a WAV stream's frames. A stream (`stream`: standard input) ends
/// where its data ends: the length in a piped WAV header is a placeholder,
/// so the data ending before it at a whole frame is the stream's end.
fn send_wav<R: Read>(
    reader: WavReader<R>,
    frames_at: impl Fn(u32) -> usize,
    path: &Path,
    stream: bool,
    tx: &mpsc::Sender<Result<Value, Error>>,
) {
    let frames = frames_at(reader.sample_rate());
    for item in reader.frames(frames) {
        let item = match item {
            Ok(frame) => Ok(Value::Audio(frame)),
            Err(WavError::Truncated { read, channels, .. }) if stream && read % u64::from(channels.max(1)) == 0 => {
                tracing::debug!("the WAV stream ended after {read} samples");
                break;
            }
            Err(e) => Err(Error::Wav { path: path.to_owned(), source: e }),
        };
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            break;
        }
    }
}

/// Send raw PCM's frames; bytes at the end that make no whole frame (a
/// stream stopped mid-frame) are left out with a warning.
fn send_pcm<R: Read>(
    reader: R,
    format: PcmFormat,
    frames_at: impl Fn(u32) -> usize,
    name: &str,
    tx: &mpsc::Sender<Result<Value, Error>>,
) {
    let frames = frames_at(format.sample_rate);
    let mut reader = PcmReader::new(reader, format);
    loop {
        let item = match reader.read_frame(frames) {
            Ok(Some(frame)) => Ok(Value::Audio(frame)),
            Ok(None) => break,
            Err(e) => Err(Error::io(format!("reading raw PCM from {name}"), e)),
        };
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            return;
        }
    }
    if reader.trailing_bytes() > 0 {
        tracing::warn!("raw PCM from {name} ended inside a frame: its last {} bytes were left out", reader.trailing_bytes());
    }
}

async fn read_json_lines<R: tokio::io::AsyncBufRead + Unpin>(
    reader: R,
    name: &str,
    tx: &mpsc::Sender<Result<Value, Error>>,
) {
    let mut lines = reader.lines();
    let mut number = 0u64;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(Error::io(format!("reading {name}"), e))).await;
                break;
            }
        };
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let item = crate::value::json::from_json_str(&line).map_err(|source| Error::JsonLine {
            input: name.to_owned(),
            line: number,
            source,
        });
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
}

