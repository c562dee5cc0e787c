//! The pipeline's input: values, a sequence, a WAV file cut into frames, or
//! JSON lines from a file or standard input, read into a channel.
//!
//! Files are read as the pipeline takes their items: a WAV file frame by
//! frame (on a blocking thread, as its reader is blocking I/O), JSON lines
//! line by line, so the bounded channel holds back the reading when the
//! nodes fall behind, and a file of any size is never all in memory.

use std::path::Path;

use nodehost_sdk::Value;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::manifest::{FrameSize, InputSpec};
use crate::pipeline::CHANNEL_CAPACITY;
use crate::value::wav::WavReader;

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
            InputSpec::Wav { path, frame } => {
                let reading = {
                    let (path, tx) = (path.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || send_wav(&path, frame, &tx))
                };
                // A panic would be a bug in the reader: say so rather than
                // end the input as if the file had ended.
                if let Err(e) = reading.await {
                    let _ = tx.send(Err(Error::Input(format!("reading WAV file {}: {e}", path.display())))).await;
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

/// Send the WAV file at `path` as frames of `frame`, each as soon as it is
/// read; an error ends the input after the frames before it.
fn send_wav(path: &Path, frame: FrameSize, tx: &mpsc::Sender<Result<Value, Error>>) {
    let wav_error = |source| Error::Wav { path: path.to_owned(), source };
    let reader = match WavReader::open(path) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = tx.blocking_send(Err(wav_error(e)));
            return;
        }
    };
    let frames = match frame {
        FrameSize::Samples(n) => n,
        FrameSize::Millis(ms) => ((f64::from(reader.sample_rate()) * ms / 1000.0).round() as usize).max(1),
    };
    for item in reader.frames(frames) {
        let item = item.map(Value::Audio).map_err(wav_error);
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            break;
        }
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

