//! Reading WAV files, streaming: [`WavReader`] reads the header, then the
//! samples frame by frame from any reader, so a file of any length enters a
//! pipeline as [`AudioFrame`]s of a fixed number of frames without being
//! held in memory.
//!
//! The RIFF/WAVE parsing is the `hound` crate's. It reads PCM at 8, 16, 24
//! (in 3- or 4-byte containers) and 32 bits and IEEE float at 32 bits,
//! plain or `WAVE_FORMAT_EXTENSIBLE`, any number of channels; samples come
//! out interleaved, as in the file, scaled to [-1, 1) as `f32`. hound does
//! not read 64-bit float (nor A-law, mu-law, ADPCM...): such files are
//! refused with [`WavError::Unsupported`], which says so.
//!
//! The two commonest encodings, 16-bit PCM and 32-bit float, are read a
//! frame's bytes at a time once hound has read the header and the first
//! sample (which tells that the samples are stored as hound reads them);
//! the rest go sample by sample through hound, which took 7 times the
//! instructions on 16-bit PCM.
//!
//! Nothing is dropped silently. A data chunk that is not a whole number of
//! frames (a sample of one channel without the others, or part of a
//! sample) is refused when the file is opened ([`WavError::PartialFrame`]);
//! a file that ends before its data chunk does is an error when the end is
//! reached ([`WavError::Truncated`]), after the whole frames before it were
//! given out. The last frame of a file is shorter than the others when the
//! file's length is not a multiple of the frame size: it holds whole
//! frames of every channel.

use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hound::SampleFormat;
use nodehost_sdk::AudioFrame;

use crate::value::pcm::{PcmEncoding, read_fully};

/// Why a WAV file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be opened or read.
    #[error("reading the WAV file")]
    Io(#[source] io::Error),
    /// The file does not start with a RIFF/WAVE header.
    #[error("not a WAV file: {reason}")]
    NotWav {
        /// What is missing.
        reason: &'static str,
        /// hound's error, when it found the header wrong.
        #[source]
        source: Option<hound::Error>,
    },
    /// A WAV encoding this reader does not decode.
    #[error("unsupported WAV encoding: {what}; convert it to PCM (8, 16, 24 or 32 bit) or 32-bit float")]
    Unsupported {
        /// The encoding, as far as it is known.
        what: String,
        /// hound's error, when it was hound that refused.
        #[source]
        source: Option<hound::Error>,
    },
    /// The data chunk's length is not a whole number of frames: the file
    /// was cut in the middle of a sample or of a frame, or is corrupt.
    #[error("the WAV data ends in a partial sample or frame (its length is not a whole number of frames of every channel)")]
    PartialFrame(#[source] hound::Error),
    /// The file ends inside its header.
    #[error("the WAV file ends inside its header")]
    TruncatedHeader(#[source] hound::Error),
    /// The file ends before its data chunk does.
    #[error(
        "the WAV file ends early: its data chunk holds {expected} samples ({channels} channels interleaved), \
         the file only {read}"
    )]
    Truncated {
        /// Samples (of all channels) the file holds.
        read: u64,
        /// Samples its data chunk says it holds.
        expected: u64,
        /// Channels per frame.
        channels: u16,
        /// hound's error at the end.
        #[source]
        source: hound::Error,
    },
    /// Any other malformed header.
    #[error("malformed WAV file")]
    Malformed(#[source] hound::Error),
}

/// The reader hound reads from: the 12 header bytes this module looked at
/// first, then the rest, noting when the end is reached.
type Source<R> = Chain<Cursor<[u8; 12]>, EndTracking<R>>;

/// A WAV stream: its format, then its samples frame by frame.
pub struct WavReader<R> {
    samples: Samples<R>,
    spec: hound::WavSpec,
    /// Samples (of all channels) the data chunk holds.
    len: u64,
    /// Set once a read of the underlying reader came back empty: an error
    /// after that is the file ending early.
    ended: Arc<AtomicBool>,
    /// What one sample is multiplied by to land in [-1, 1): 2^-(bits-1) for
    /// PCM, `None` for float.
    scale: Option<f64>,
    samples_read: u64,
}

impl<R: Read> std::fmt::Debug for WavReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavReader")
            .field("spec", &self.spec)
            .field("samples_read", &self.samples_read)
            .finish_non_exhaustive()
    }
}

impl WavReader<BufReader<File>> {
    /// Open the WAV file at `path` and read its header.
    ///
    /// # Errors
    /// When the file cannot be opened, or its header is not one of a WAV
    /// file this reader decodes (see [`WavReader::new`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WavError> {
        WavReader::new(BufReader::new(File::open(path).map_err(WavError::Io)?))
    }
}

impl<R: Read> WavReader<R> {
    /// Read the header of the WAV stream `reader`, up to the first sample.
    /// Samples are read as they are asked for, straight from `reader` (give
    /// it a buffer if reads are costly).
    ///
    /// # Errors
    /// [`WavError::NotWav`] without a RIFF/WAVE header,
    /// [`WavError::Unsupported`] for an encoding other than PCM at 8, 16, 24
    /// or 32 bits or 32-bit float, [`WavError::PartialFrame`] when the data
    /// chunk is not a whole number of frames, [`WavError::TruncatedHeader`]
    /// or [`WavError::Malformed`] for a header cut short or wrong.
    pub fn new(mut reader: R) -> Result<Self, WavError> {
        // Look at the RIFF/WAVE header first, so "not a WAV file" is told
        // apart from a WAV file that is wrong further on.
        let mut head = [0u8; 12];
        if let Err(e) = reader.read_exact(&mut head) {
            return Err(if e.kind() == io::ErrorKind::UnexpectedEof {
                WavError::NotWav { reason: "it is shorter than a RIFF/WAVE header", source: None }
            } else {
                WavError::Io(e)
            });
        }
        if let Err(e) = hound::read_wave_header(&mut &head[..]) {
            return Err(WavError::NotWav { reason: "it has no RIFF/WAVE header", source: Some(e) });
        }
        let ended = Arc::new(AtomicBool::new(false));
        let source = Cursor::new(head).chain(EndTracking { inner: reader, ended: Arc::clone(&ended) });
        let mut inner = hound::WavReader::new(source).map_err(|e| open_error(e, ended.load(Ordering::Relaxed)))?;
        let spec = inner.spec();
        let len = u64::from(inner.len());
        let scale = match (spec.sample_format, spec.bits_per_sample) {
            (SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => Some(1.0 / f64::from(1u32 << (bits - 1))),
            (SampleFormat::Float, 32) => None,
            (SampleFormat::Int, bits) => {
                return Err(WavError::Unsupported { what: format!("{bits}-bit PCM"), source: None });
            }
            (SampleFormat::Float, bits) => {
                return Err(WavError::Unsupported {
                    what: format!("{bits}-bit float (hound, the WAV reader, reads 32-bit float only)"),
                    source: None,
                });
            }
        };
        let block = match (spec.sample_format, spec.bits_per_sample) {
            (SampleFormat::Int, 16) => Some(PcmEncoding::S16Le),
            (SampleFormat::Float, 32) => Some(PcmEncoding::F32Le),
            _ => None,
        };
        let samples = match block {
            // hound reads these only when each sample takes exactly its
            // width (not a wider container): reading the first one tells.
            Some(encoding) if len > 0 => {
                let first = match encoding {
                    PcmEncoding::S16Le => inner.samples::<i16>().next().map(|s| s.map(|s| f32::from(s) / 32768.0)),
                    PcmEncoding::F32Le => inner.samples::<f32>().next(),
                };
                match first {
                    Some(Ok(first)) => {
                        Samples::Blocks { reader: inner.into_inner(), encoding, first: Some(first), bytes: Vec::new() }
                    }
                    failed => Samples::Hound { reader: inner, pending: failed.and_then(Result::err) },
                }
            }
            _ => Samples::Hound { reader: inner, pending: None },
        };
        Ok(WavReader { samples, spec, len, ended, scale, samples_read: 0 })
    }

    /// Frames per second.
    pub fn sample_rate(&self) -> u32 {
        self.spec.sample_rate
    }

    /// Channels per frame.
    pub fn channels(&self) -> u16 {
        self.spec.channels
    }

    /// Bits per sample as stored (8, 16, 24 or 32).
    pub fn bits_per_sample(&self) -> u16 {
        self.spec.bits_per_sample
    }

    /// True for IEEE float samples, false for PCM.
    pub fn is_float(&self) -> bool {
        self.scale.is_none()
    }

    /// Frames (samples per channel) the data chunk holds.
    pub fn len_frames(&self) -> u64 {
        self.len / u64::from(self.spec.channels.max(1))
    }

    /// Duration in seconds, as the header tells it.
    pub fn duration(&self) -> f64 {
        self.len_frames() as f64 / f64::from(self.sample_rate().max(1))
    }

    /// The next `frames` frames (fewer at the end of the data, `None` after
    /// it) as one [`AudioFrame`], channels interleaved.
    ///
    /// # Errors
    /// [`WavError::Truncated`] when the file ends before its data chunk
    /// does (the samples read in this call are then dropped, and the error
    /// says how many the file held), [`WavError::Io`] when reading fails.
    pub fn read_frame(&mut self, frames: usize) -> Result<Option<AudioFrame>, WavError> {
        let channels = self.channels();
        let want = frames.max(1).saturating_mul(usize::from(channels));
        let expected = self.len;
        let left = usize::try_from(expected.saturating_sub(self.samples_read)).unwrap_or(usize::MAX);
        let mut samples = Vec::with_capacity(want.min(left));
        let (ended, read) = (&self.ended, &mut self.samples_read);
        let error = |e, read| sample_error(e, ended, read, expected, channels);
        match &mut self.samples {
            Samples::Hound { reader, pending } => {
                if let Some(e) = pending.take() {
                    return Err(error(e, *read));
                }
                match self.scale {
                    Some(scale) => {
                        for sample in reader.samples::<i32>().take(want) {
                            samples.push((f64::from(sample.map_err(|e| error(e, *read))?) * scale) as f32);
                            *read += 1;
                        }
                    }
                    None => {
                        for sample in reader.samples::<f32>().take(want) {
                            samples.push(sample.map_err(|e| error(e, *read))?);
                            *read += 1;
                        }
                    }
                }
            }
            Samples::Blocks { reader, encoding, first, bytes } => {
                let mut n = want.min(left);
                if n > 0 && let Some(first) = first.take() {
                    samples.push(first);
                    *read += 1;
                    n -= 1;
                }
                let width = encoding.width();
                bytes.resize(n * width, 0);
                let filled = read_fully(reader, bytes).map_err(WavError::Io)?;
                encoding.decode(&bytes[..filled], &mut samples);
                *read += (filled / width) as u64;
                if filled < bytes.len() {
                    let eof = hound::Error::IoError(io::Error::from(io::ErrorKind::UnexpectedEof));
                    return Err(WavError::Truncated { read: *read, expected, channels, source: eof });
                }
            }
        }
        Ok((!samples.is_empty()).then(|| AudioFrame { samples, sample_rate: self.sample_rate(), channels }))
    }

    /// The frames of the stream, `frames` frames each (the last may hold
    /// fewer); the iterator ends after the first error.
    pub fn frames(self, frames: usize) -> Frames<R> {
        Frames { reader: self, frames, done: false }
    }
}

/// The frames of a [`WavReader`], read as they are asked for.
#[derive(Debug)]
pub struct Frames<R: Read> {
    reader: WavReader<R>,
    frames: usize,
    done: bool,
}

impl<R: Read> Iterator for Frames<R> {
    type Item = Result<AudioFrame, WavError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.reader.read_frame(self.frames).transpose();
        self.done = !matches!(next, Some(Ok(_)));
        next
    }
}

/// Where a [`WavReader`]'s samples come from, once the header is read.
enum Samples<R> {
    /// hound decodes each sample; `pending` is the error of the first one,
    /// when it was read to choose between these and failed, which the
    /// first frame's read gives.
    Hound { reader: hound::WavReader<Source<R>>, pending: Option<hound::Error> },
    /// Samples stored as `encoding` (16-bit PCM or 32-bit float) read in
    /// blocks from `reader`, after `first`, which was read to choose.
    Blocks { reader: Source<R>, encoding: PcmEncoding, first: Option<f32>, bytes: Vec<u8> },
}

/// A hound error from reading the header as a [`WavError`]; `ended` tells
/// whether the file had ended by then.
fn open_error(e: hound::Error, ended: bool) -> WavError {
    match e {
        // hound names what it refuses only in its messages: these are
        // hound 3.5's (the tests pin them; another wording still gives an
        // error, only a less specific one).
        hound::Error::FormatError("bits per sample is not 32") => WavError::Unsupported {
            what: "float samples of other than 32 bits, such as 64-bit float (hound, the WAV reader, reads 32-bit float only)"
                .into(),
            source: Some(e),
        },
        hound::Error::FormatError("data chunk length is not a multiple of sample size" | "invalid data chunk length") => {
            WavError::PartialFrame(e)
        }
        hound::Error::Unsupported => WavError::Unsupported {
            what: "neither PCM nor IEEE float (compressed, A-law, mu-law...)".into(),
            source: Some(e),
        },
        e if ended => WavError::TruncatedHeader(e),
        hound::Error::IoError(e) => WavError::Io(e),
        e => WavError::Malformed(e),
    }
}

/// A hound error from reading sample number `read` (of `expected`) as a
/// [`WavError`].
fn sample_error(e: hound::Error, ended: &AtomicBool, read: u64, expected: u64, channels: u16) -> WavError {
    match e {
        _ if ended.load(Ordering::Relaxed) => WavError::Truncated { read, expected, channels, source: e },
        hound::Error::IoError(e) => WavError::Io(e),
        e => WavError::Unsupported { what: "a sample layout hound does not decode".into(), source: Some(e) },
    }
}

/// A reader that notes when it has reached its end (a read that returns
/// nothing), which tells a file cut short from any other failure. Kept
/// here because hound reports both the same way, as an I/O error.
#[derive(Debug)]
struct EndTracking<R> {
    inner: R,
    ended: Arc<AtomicBool>,
}

impl<R: Read> Read for EndTracking<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hound::{WavSpec, WavWriter};

    /// A WAV file written by hound (not by this module) with `samples`
    /// (interleaved) in the given encoding.
    fn written_by_hound<S: hound::Sample + Copy>(channels: u16, bits: u16, format: SampleFormat, samples: &[S]) -> Vec<u8> {
        let spec = WavSpec { channels, sample_rate: 8000, bits_per_sample: bits, sample_format: format };
        let mut bytes = Cursor::new(Vec::new());
        let mut writer = WavWriter::new(&mut bytes, spec).unwrap();
        for &s in samples {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
        bytes.into_inner()
    }

    fn all_samples(bytes: &[u8]) -> (WavReader<&[u8]>, Vec<f32>) {
        let reader = WavReader::new(bytes).unwrap();
        let frames: Vec<AudioFrame> = WavReader::new(bytes).unwrap().frames(3).collect::<Result<_, _>>().unwrap();
        (reader, frames.into_iter().flat_map(|f| f.samples).collect())
    }

    #[test]
    fn pcm_8_bit_is_read_sample_exact() {
        // 8-bit WAV is unsigned on disk; hound takes signed samples.
        let bytes = written_by_hound(1, 8, SampleFormat::Int, &[-128i8, -64, -1, 0, 1, 64, 127]);
        let (reader, samples) = all_samples(&bytes);
        assert_eq!((reader.bits_per_sample(), reader.is_float(), reader.channels()), (8, false, 1));
        assert_eq!(samples, [-1.0, -0.5, -1.0 / 128.0, 0.0, 1.0 / 128.0, 0.5, 127.0 / 128.0]);
    }

    #[test]
    fn pcm_16_bit_is_read_sample_exact() {
        let bytes = written_by_hound(2, 16, SampleFormat::Int, &[i16::MIN, i16::MAX, -16384i16, 16384, 0, 1]);
        let (reader, samples) = all_samples(&bytes);
        assert_eq!((reader.channels(), reader.len_frames(), reader.sample_rate()), (2, 3, 8000));
        assert_eq!(samples, [-1.0, 32767.0 / 32768.0, -0.5, 0.5, 0.0, 1.0 / 32768.0]);
    }

    #[test]
    fn pcm_24_bit_is_read_sample_exact() {
        let bytes = written_by_hound(1, 24, SampleFormat::Int, &[-8_388_608i32, 8_388_607, -4_194_304, 1]);
        let (_, samples) = all_samples(&bytes);
        assert_eq!(samples, [-1.0, 8_388_607.0 / 8_388_608.0, -0.5, 1.0 / 8_388_608.0]);
    }

    #[test]
    fn pcm_32_bit_is_read_sample_exact() {
        let bytes = written_by_hound(1, 32, SampleFormat::Int, &[i32::MIN, 1 << 30, -(1 << 29), 0, 1 << 7]);
        let (_, samples) = all_samples(&bytes);
        assert_eq!(samples, [-1.0, 0.5, -0.25, 0.0, 2f32.powi(-24)]);
    }

    #[test]
    fn float_32_bit_is_read_as_it_is() {
        let values = [0.0f32, -1.0, 1.0, 0.123_456_79, -3.5, f32::MIN_POSITIVE];
        let bytes = written_by_hound(3, 32, SampleFormat::Float, &values);
        let (reader, samples) = all_samples(&bytes);
        assert!(reader.is_float());
        assert_eq!(samples, values);
    }

    #[test]
    fn frames_hold_every_channel_and_the_last_may_be_shorter() {
        let samples: Vec<i16> = (0..10).collect(); // 5 frames of 2 channels
        let bytes = written_by_hound(2, 16, SampleFormat::Int, &samples);
        let frames: Vec<AudioFrame> = WavReader::new(&bytes[..]).unwrap().frames(2).collect::<Result<_, _>>().unwrap();
        let lens: Vec<usize> = frames.iter().map(|f| f.samples.len()).collect();
        assert_eq!(lens, [4, 4, 2]);
        assert!(frames.iter().all(|f| f.channels == 2 && f.sample_rate == 8000));
        assert_eq!(frames[2].samples, [8.0 / 32768.0, 9.0 / 32768.0]);
    }

    #[test]
    fn frames_are_read_as_they_are_asked_for() {
        // A reader that counts the bytes taken from it.
        struct Counting<'a>(&'a [u8], std::rc::Rc<std::cell::Cell<usize>>);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1.set(self.1.get() + n);
                Ok(n)
            }
        }
        let bytes = written_by_hound(1, 16, SampleFormat::Int, &vec![7i16; 100_000]);
        let taken = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut reader = WavReader::new(Counting(&bytes, taken.clone())).unwrap();
        // The header, and the first sample, read to choose how to read the rest.
        let opened = taken.get();
        assert!(opened < 100, "opening took {opened} bytes");
        assert_eq!(reader.read_frame(160).unwrap().unwrap().samples.len(), 160);
        assert_eq!(taken.get(), opened + 318);
        assert_eq!(reader.read_frame(160).unwrap().unwrap().samples.len(), 160);
        assert_eq!(taken.get(), opened + 318 + 320);
    }

    #[test]
    fn a_truncated_file_is_an_error_after_its_whole_frames() {
        let bytes = written_by_hound(2, 16, SampleFormat::Int, &[1i16; 20]); // 10 frames
        // Cut in the middle of the 8th sample: 7 whole samples remain.
        let cut = &bytes[..bytes.len() - 40 + 7 * 2 + 1];
        let mut frames = WavReader::new(cut).unwrap().frames(2);
        assert_eq!(frames.next().unwrap().unwrap().samples.len(), 4);
        let e = frames.next().unwrap().unwrap_err();
        assert!(matches!(e, WavError::Truncated { read: 7, expected: 20, channels: 2, .. }), "{e:?}");
        assert!(e.to_string().contains("holds 20 samples (2 channels interleaved), the file only 7"), "{e}");
        assert!(frames.next().is_none(), "the iterator ends after an error");

        // Cut inside the header.
        let e = WavReader::new(&bytes[..30]).unwrap_err();
        assert!(matches!(e, WavError::TruncatedHeader(_)), "{e:?}");
    }

    #[test]
    fn a_data_chunk_of_partial_frames_is_refused() {
        let mut bytes = written_by_hound(2, 16, SampleFormat::Int, &[1i16; 4]);
        let data_len_at = bytes.len() - 8 - 4;
        assert_eq!(&bytes[data_len_at - 4..data_len_at], b"data");
        // Half a sample more, then one sample (one channel of a frame) more.
        for extra in [1u32, 2] {
            bytes[data_len_at..data_len_at + 4].copy_from_slice(&(8 + extra).to_le_bytes());
            let e = WavReader::new(&bytes[..]).unwrap_err();
            assert!(matches!(e, WavError::PartialFrame(_)), "{extra}: {e:?}");
            assert!(e.to_string().contains("partial sample or frame"), "{e}");
        }
    }

    #[test]
    fn what_is_not_a_wav_file_says_so() {
        let e = WavReader::new(&b"hello"[..]).unwrap_err();
        assert!(matches!(e, WavError::NotWav { .. }) && e.to_string().contains("shorter than a RIFF/WAVE header"), "{e}");
        let e = WavReader::new(&b"ID3\x04\x00\x00\x00\x00\x00\x00not a wav at all"[..]).unwrap_err();
        assert!(e.to_string().contains("not a WAV file: it has no RIFF/WAVE header"), "{e}");
        let e = WavReader::open("/nonexistent/x.wav").unwrap_err();
        assert!(matches!(&e, WavError::Io(io) if io.kind() == io::ErrorKind::NotFound), "{e:?}");
    }

    /// A plain WAV header with `format` tag and `bits`, and `data`.
    fn handmade(format: u16, bits: u16, data: &[u8]) -> Vec<u8> {
        handmade_in(format, bits, bits / 8, data)
    }

    /// [`handmade`], each sample stored in `block` bytes.
    fn handmade_in(format: u16, bits: u16, block: u16, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&format.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&8000u32.to_le_bytes());
        b.extend_from_slice(&(8000 * u32::from(block)).to_le_bytes());
        b.extend_from_slice(&block.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn encodings_hound_does_not_read_are_refused_by_name() {
        // The header is hand-made: hound cannot write these.
        let e = WavReader::new(&handmade(3, 64, &0.5f64.to_le_bytes())[..]).unwrap_err();
        assert!(matches!(e, WavError::Unsupported { .. }) && e.to_string().contains("64-bit float"), "{e}");
        let e = WavReader::new(&handmade(7, 8, &[0xff])[..]).unwrap_err(); // mu-law
        assert!(e.to_string().contains("unsupported WAV encoding: neither PCM nor IEEE float"), "{e}");
        // The same plain header with PCM or 32-bit float is read.
        for (format, bits, data, sample) in [
            (1, 16, &16384i16.to_le_bytes()[..], 0.5),
            (1, 24, &[0x00, 0x00, 0xc0][..], -0.5),
            (1, 32, &(-1i32 << 29).to_le_bytes()[..], -0.25),
            (3, 32, &0.75f32.to_le_bytes()[..], 0.75),
        ] {
            let frame = WavReader::new(&handmade(format, bits, data)[..]).unwrap().read_frame(10).unwrap();
            assert_eq!(frame.unwrap().samples, [sample], "format {format}, {bits} bits");
        }
    }

    /// The samples of `bytes` as hound decodes them one by one, scaled as
    /// this reader scales them: what the block reads must give.
    fn decoded_by_hound(bytes: &[u8]) -> Vec<f32> {
        let mut reader = hound::WavReader::new(bytes).unwrap();
        match reader.spec().sample_format {
            SampleFormat::Int => reader.samples::<i32>().map(|s| (f64::from(s.unwrap()) / 32768.0) as f32).collect(),
            SampleFormat::Float => reader.samples::<f32>().map(Result::unwrap).collect(),
        }
    }

    proptest::proptest! {
        /// 16-bit PCM and 32-bit float, read in blocks, give exactly the
        /// samples hound decodes, in frames of any size, every channel
        /// whole in each frame.
        #[test]
        fn block_reads_give_what_hound_decodes(
            channels in 1u16..4,
            ints in proptest::collection::vec(proptest::num::i16::ANY, 0..300),
            floats in proptest::collection::vec(-2.0f32..2.0, 0..300),
            frames in 1usize..70,
        ) {
            let c = usize::from(channels);
            let ints = &ints[..ints.len() / c * c];
            let floats = &floats[..floats.len() / c * c];
            for bytes in [
                written_by_hound(channels, 16, SampleFormat::Int, ints),
                written_by_hound(channels, 32, SampleFormat::Float, floats),
            ] {
                let read: Vec<AudioFrame> = WavReader::new(&bytes[..]).unwrap().frames(frames).collect::<Result<_, _>>().unwrap();
                proptest::prop_assert!(read.iter().all(|f| f.samples.len() % c == 0 && f.samples.len() <= frames * c));
                let samples: Vec<f32> = read.into_iter().flat_map(|f| f.samples).collect();
                proptest::prop_assert_eq!(samples, decoded_by_hound(&bytes));
            }
        }
    }

    #[test]
    fn a_16_bit_sample_in_a_wider_container_is_an_error_as_hound_gives_it() {
        // 16 bits used of 4 bytes a sample: hound decodes no sample of it.
        let bytes = handmade_in(1, 16, 4, &[1, 0, 0, 0, 2, 0, 0, 0]);
        let mut reader = WavReader::new(&bytes[..]).unwrap();
        let e = reader.read_frame(2).unwrap_err();
        assert!(matches!(e, WavError::Unsupported { .. }) && e.to_string().contains("a sample layout hound does not decode"), "{e}");
    }

    #[test]
    fn block_reads_of_a_cut_file_give_the_whole_frames_then_say_how_far_it_went() {
        let bytes = written_by_hound(1, 32, SampleFormat::Float, &[0.25f32; 10]);
        // Cut in the middle of the 6th sample.
        let cut = &bytes[..bytes.len() - 40 + 5 * 4 + 2];
        let mut frames = WavReader::new(cut).unwrap().frames(4);
        assert_eq!(frames.next().unwrap().unwrap().samples, [0.25; 4]);
        let e = frames.next().unwrap().unwrap_err();
        assert!(matches!(e, WavError::Truncated { read: 5, expected: 10, channels: 1, .. }), "{e:?}");
        assert!(frames.next().is_none());

        // Cut before the first sample: the first read says so.
        let bytes = written_by_hound(1, 16, SampleFormat::Int, &[1i16; 10]);
        let mut reader = WavReader::new(&bytes[..bytes.len() - 20]).unwrap();
        let e = reader.read_frame(4).unwrap_err();
        assert!(matches!(e, WavError::Truncated { read: 0, expected: 10, .. }), "{e:?}");
    }
}
