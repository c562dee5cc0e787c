//! The pipeline's input: values, a sequence, audio (a WAV file or stream,
//! raw PCM) cut into frames, or JSON lines from a file or standard input,
//! made where the pipeline is fed ([`Source::Made`]) or read into a channel
//! by a task of its own ([`Source::Read`]).
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
use crate::pipeline::{BATCH_ITEMS, RunState};
use crate::value::pcm::PcmReader;
use crate::value::wav::{WavError, WavReader};

/// Inputs read together: the items a source had ready at once (a sequence
/// or a list of values in runs of [`BATCH_ITEMS`], JSON lines already
/// in the read buffer, one audio frame). An error ends the input.
pub type InputBatch = Vec<Result<Value, Error>>;

/// How many [`InputBatch`]es wait between the reader and the pipeline.
const INPUT_BATCHES: usize = 4;

/// JSON lines of more than this many bytes in all go as a batch of their
/// own, so what waits between the reader and the pipeline stays bounded by
/// bytes too (a few batches of this, plus one line each).
const JSON_BATCH_BYTES: usize = 1 << 20;

/// The pipeline's input as the feeder takes it.
pub(crate) enum Source {
    /// Items made where they are fed (a sequence, values in memory): they
    /// reach the first nodes' threads without a hand-over between threads
    /// on the way.
    Made(Box<dyn Iterator<Item = Result<Value, Error>> + Send>),
    /// Batches read by a task of their own (files, streams, audio).
    Read(mpsc::Receiver<InputBatch>),
}

impl Source {
    /// The source of `spec`'s items: made on the spot when they need no
    /// reading, else read by a task spawned now.
    pub(crate) fn of(spec: InputSpec) -> Self {
        match spec {
            InputSpec::Values(values) => Source::Made(Box::new(values.into_iter().map(Ok))),
            InputSpec::Sequence { start, count, step } => Source::Made(Box::new(sequence(start, count, step))),
            spec => Source::Read(spawn_owned_input(spec)),
        }
    }

    /// Add to `batch` what is ready, up to [`BATCH_ITEMS`] items: at least
    /// one item unless the input is over. Returns whether the input is
    /// over: it ended, or gave an error (kept in `state`; the items before
    /// it are in `batch`).
    pub(crate) async fn fill(&mut self, batch: &mut Vec<Value>, state: &RunState) -> bool {
        let take = |item: Result<Value, Error>, batch: &mut Vec<Value>| match item {
            Ok(value) => {
                batch.push(value);
                true
            }
            Err(e) => {
                state.fail(e);
                false
            }
        };
        match self {
            Source::Made(items) => {
                while batch.len() < BATCH_ITEMS {
                    let Some(item) = items.next() else { return true };
                    if !take(item, batch) {
                        return true;
                    }
                }
                false
            }
            Source::Read(batches) => {
                let Some(first) = batches.recv().await else { return true };
                let mut next = Some(first);
                while let Some(items) = next.take() {
                    for item in items {
                        if !take(item, batch) {
                            return true;
                        }
                    }
                    if batch.len() < BATCH_ITEMS {
                        next = batches.try_recv().ok();
                    }
                }
                false
            }
        }
    }
}

/// The integers `start`, `start + step`, ... (`count` of them); an error
/// where one would not fit in 64 bits.
fn sequence(start: i64, count: u64, step: i64) -> impl Iterator<Item = Result<Value, Error>> + Send {
    (0..count).map(move |k| {
        i64::try_from(k)
            .ok()
            .and_then(|k| k.checked_mul(step))
            .and_then(|x| x.checked_add(start))
            .map(Value::Int)
            .ok_or_else(|| Error::Input("sequence overflows 64-bit ints".into()))
    })
}

/// Read the pipeline's input as described by `spec` into a channel.
pub fn spawn_input(spec: &InputSpec) -> mpsc::Receiver<InputBatch> {
    spawn_owned_input(spec.clone())
}

/// [`spawn_input`], taking the spec (in-memory values are not copied).
pub(crate) fn spawn_owned_input(spec: InputSpec) -> mpsc::Receiver<InputBatch> {
    let (tx, rx) = mpsc::channel(INPUT_BATCHES);
    tokio::spawn(async move {
        match spec {
            InputSpec::Values(values) => {
                let mut values = values.into_iter().map(Ok).peekable();
                while values.peek().is_some() {
                    if tx.send(values.by_ref().take(BATCH_ITEMS).collect()).await.is_err() {
                        break;
                    }
                }
            }
            InputSpec::Sequence { start, count, step } => {
                let mut items = sequence(start, count, step).peekable();
                while items.peek().is_some() {
                    if tx.send(items.by_ref().take(BATCH_ITEMS).collect()).await.is_err() {
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
                    let _ = tx.send(vec![Err(Error::Input(format!("reading audio from {}: {e}", source.describe())))]).await;
                }
            }
            InputSpec::JsonLines(path) => match tokio::fs::File::open(&path).await {
                Ok(file) => read_json_lines(tokio::io::BufReader::new(file), &path.display().to_string(), &tx).await,
                Err(e) => {
                    let _ = tx.send(vec![Err(Error::io(format!("opening {}", path.display()), e))]).await;
                }
            },
            InputSpec::Stdin => read_json_lines(tokio::io::BufReader::new(tokio::io::stdin()), "stdin", &tx).await,
        }
    });
    rx
}

/// Send the audio of `source` as frames of `frame`, each as soon as it is
/// read; an error ends the input after the frames before it.
fn send_audio(source: &AudioSource, frame: FrameSize, tx: &mpsc::Sender<InputBatch>) {
    let frames_at = |rate: u32| match frame {
        FrameSize::Samples(n) => n,
        FrameSize::Millis(ms) => ((f64::from(rate) * ms / 1000.0).round() as usize).max(1),
    };
    match source {
        AudioSource::WavFile(path) => match WavReader::open(path) {
            Ok(reader) => send_wav(reader, frames_at, path, false, tx),
            Err(e) => {
                let _ = tx.blocking_send(vec![Err(Error::Wav { path: path.clone(), source: e })]);
            }
        },
        AudioSource::WavStdin => match WavReader::new(std::io::stdin().lock()) {
            Ok(reader) => send_wav(reader, frames_at, Path::new("stdin"), true, tx),
            Err(e) => {
                let _ = tx.blocking_send(vec![Err(Error::Wav { path: "stdin".into(), source: e })]);
            }
        },
        AudioSource::Pcm { path: Some(path), format } => match std::fs::File::open(path) {
            Ok(file) => send_pcm(std::io::BufReader::new(file), *format, frames_at, &source.describe(), tx),
            Err(e) => {
                let _ = tx.blocking_send(vec![Err(Error::io(format!("opening {}", path.display()), e))]);
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
    tx: &mpsc::Sender<InputBatch>,
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
        if tx.blocking_send(vec![item]).is_err() || failed {
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
    tx: &mpsc::Sender<InputBatch>,
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
        if tx.blocking_send(vec![item]).is_err() || failed {
            return;
        }
    }
    if reader.trailing_bytes() > 0 {
        tracing::warn!("raw PCM from {name} ended inside a frame: its last {} bytes were left out", reader.trailing_bytes());
    }
}

async fn read_json_lines<R: tokio::io::AsyncRead + Unpin>(
    reader: tokio::io::BufReader<R>,
    name: &str,
    tx: &mpsc::Sender<InputBatch>,
) {
    let mut lines = reader.lines();
    let mut number = 0u64;
    let mut batch = Vec::new();
    let mut batch_bytes = 0;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                batch.push(Err(Error::io(format!("reading {name}"), e)));
                break;
            }
        };
        number += 1;
        batch_bytes += line.len();
        if !line.trim().is_empty() {
            let item = crate::value::json::from_json_str(&line).map_err(|source| Error::JsonLine {
                input: name.to_owned(),
                line: number,
                source,
            });
            let failed = item.is_err();
            batch.push(item);
            if failed {
                break;
            }
        }
        // Lines already read in go together; never wait for more.
        let more_ready = lines.get_ref().buffer().contains(&b'\n');
        let full = batch.len() >= BATCH_ITEMS || batch_bytes >= JSON_BATCH_BYTES;
        if !batch.is_empty() && (!more_ready || full) {
            batch_bytes = 0;
            if tx.send(std::mem::take(&mut batch)).await.is_err() {
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(batch).await;
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `read_json_lines` sends for `text`, batch by batch.
    fn batches(text: String) -> Vec<InputBatch> {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel(1 << 12);
            // A buffer that holds all of it: every line is ready at once.
            let reader = tokio::io::BufReader::with_capacity(16 << 20, std::io::Cursor::new(text.into_bytes()));
            read_json_lines(reader, "test", &tx).await;
            drop(tx);
            let mut all = Vec::new();
            while let Some(batch) = rx.recv().await {
                all.push(batch);
            }
            all
        })
    }

    #[test]
    fn json_lines_read_in_go_in_batches_in_order() {
        let text: String = (0..1000).map(|n| format!("{n}\n")).collect();
        let all = batches(text);
        // Everything was in the buffer at once: full batches, not one each.
        assert!(all.len() < 1000 / 8, "{} batches", all.len());
        assert!(all.iter().all(|b| !b.is_empty() && b.len() <= BATCH_ITEMS));
        let values: Vec<i64> = all.into_iter().flatten().map(|v| v.expect("a value").as_i64().expect("an int")).collect();
        assert_eq!(values, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn big_json_lines_go_in_smaller_batches() {
        // 64 KiB strings: a batch stops at about 1 MiB, not at 256 lines.
        let line = format!("\"{}\"\n", "x".repeat(64 << 10));
        let all = batches(line.repeat(100));
        assert_eq!(all.iter().map(Vec::len).sum::<usize>(), 100);
        assert!(all.iter().all(|b| b.len() <= JSON_BATCH_BYTES / (64 << 10) + 1), "{:?}", all.iter().map(Vec::len).collect::<Vec<_>>());
    }

    #[test]
    fn a_bad_line_ends_the_input_after_the_lines_before_it() {
        let mut text: String = (0..300).map(|n| format!("{n}\n\n")).collect();
        text.push_str("{not json\n7\n");
        let items: Vec<Result<Value, Error>> = batches(text).into_iter().flatten().collect();
        assert_eq!(items.len(), 301);
        assert!(items[..300].iter().all(Result::is_ok));
        match &items[300] {
            Err(Error::JsonLine { input, line, .. }) => assert_eq!((input.as_str(), *line), ("test", 601)),
            other => panic!("{other:?}"),
        }
    }
}
