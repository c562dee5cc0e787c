//! Reading raw PCM, streaming: headerless interleaved samples as `arecord
//! -t raw` or `sox -t raw` write them, in the format the user names (the
//! stream cannot tell it), read frame by frame into [`AudioFrame`]s.

use std::io::{self, Read};

use nodehost_sdk::AudioFrame;

/// How raw samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcmEncoding {
    /// Signed 16-bit little-endian integers (`arecord -f S16_LE`).
    S16Le,
    /// 32-bit little-endian IEEE floats.
    F32Le,
}

impl PcmEncoding {
    /// Every encoding, by the name the manifest and CLI use.
    pub const NAMES: [(&'static str, PcmEncoding); 2] = [("s16le", PcmEncoding::S16Le), ("f32le", PcmEncoding::F32Le)];

    /// The encoding called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|&(_, e)| e)
    }

    /// Bytes per sample.
    pub fn width(self) -> usize {
        match self {
            PcmEncoding::S16Le => 2,
            PcmEncoding::F32Le => 4,
        }
    }

    /// Append the samples stored in `bytes` (whole samples only: a partial
    /// one at the end is left out) to `out`, scaled to [-1, 1).
    pub(crate) fn decode(self, bytes: &[u8], out: &mut Vec<f32>) {
        match self {
            PcmEncoding::S16Le => {
                out.extend(bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0));
            }
            PcmEncoding::F32Le => out.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        }
    }
}

/// What a raw PCM stream holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcmFormat {
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame, interleaved.
    pub channels: u16,
    /// How each sample is stored.
    pub encoding: PcmEncoding,
}

/// Why a raw PCM format cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcmFormatError {
    /// No sample rate was given (a raw stream cannot tell it).
    #[error("raw PCM input needs its sample_rate (a raw stream cannot tell it)")]
    NoSampleRate,
    /// The sample rate is outside what the host reads.
    #[error("sample_rate {0} Hz is outside 1000..=384000")]
    SampleRate(u32),
    /// The channel count is outside what the host reads.
    #[error("channels {0} is outside 1..=64")]
    Channels(u16),
    /// The encoding is not one the host reads.
    #[error("unknown PCM encoding '{0}' (one of: s16le, f32le)")]
    Encoding(String),
}

impl PcmFormat {
    /// The format from the manifest's entries or the CLI's flags: the
    /// sample rate is required, one channel and `s16le` are the defaults.
    ///
    /// # Errors
    /// What is missing or out of range, as a [`PcmFormatError`].
    pub fn new(sample_rate: Option<u32>, channels: Option<u16>, encoding: Option<&str>) -> Result<Self, PcmFormatError> {
        let sample_rate = match sample_rate {
            None => return Err(PcmFormatError::NoSampleRate),
            Some(rate @ 1000..=384_000) => rate,
            Some(rate) => return Err(PcmFormatError::SampleRate(rate)),
        };
        let channels = match channels.unwrap_or(1) {
            c @ 1..=64 => c,
            c => return Err(PcmFormatError::Channels(c)),
        };
        let encoding = match encoding {
            None => PcmEncoding::S16Le,
            Some(name) => PcmEncoding::from_name(name).ok_or_else(|| PcmFormatError::Encoding(name.to_owned()))?,
        };
        Ok(PcmFormat { sample_rate, channels, encoding })
    }
}

/// A raw PCM stream read frame by frame.
#[derive(Debug)]
pub struct PcmReader<R> {
    reader: R,
    format: PcmFormat,
    buffer: Vec<u8>,
    /// Bytes at the end of the stream that made no whole frame.
    trailing: usize,
}

impl<R: Read> PcmReader<R> {
    /// A reader of `reader`'s samples, stored as `format` says.
    pub fn new(reader: R, format: PcmFormat) -> Self {
        PcmReader { reader, format, buffer: Vec::new(), trailing: 0 }
    }

    /// The next `frames` frames (fewer at the end of the stream, `None`
    /// after it), channels interleaved, scaled to [-1, 1). Bytes at the end
    /// that make no whole frame are not given out: [`Self::trailing_bytes`]
    /// says how many there were.
    ///
    /// # Errors
    /// Reading fails.
    pub fn read_frame(&mut self, frames: usize) -> io::Result<Option<AudioFrame>> {
        let PcmFormat { sample_rate, channels, encoding } = self.format;
        let frame_bytes = encoding.width() * usize::from(channels.max(1));
        let want = frames.max(1).saturating_mul(frame_bytes);
        self.buffer.resize(want, 0);
        let filled = read_fully(&mut self.reader, &mut self.buffer)?;
        if filled == 0 {
            return Ok(None);
        }
        let whole = filled - filled % frame_bytes;
        self.trailing = filled - whole;
        if whole == 0 {
            return Ok(None);
        }
        let mut samples = Vec::with_capacity(whole / encoding.width());
        encoding.decode(&self.buffer[..whole], &mut samples);
        Ok(Some(AudioFrame { samples, sample_rate, channels }))
    }

    /// Bytes at the end of the stream that made no whole frame (a stream
    /// stopped mid-frame), once the end is reached.
    pub fn trailing_bytes(&self) -> usize {
        self.trailing
    }
}

/// Fill `buf` from `reader` unless it ends first; how many bytes were read.
pub(crate) fn read_fully(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(encoding: PcmEncoding, channels: u16) -> PcmFormat {
        PcmFormat { sample_rate: 8000, channels, encoding }
    }

    #[test]
    fn reads_whole_frames_and_reports_a_partial_one() {
        let bytes: Vec<u8> = [0i16, 16384, -32768, 32767, 1].iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut r = PcmReader::new(&bytes[..9], format(PcmEncoding::S16Le, 2));
        let first = r.read_frame(1).unwrap().unwrap();
        assert_eq!(first.samples, [0.0, 0.5]);
        assert_eq!((first.channels, first.sample_rate), (2, 8000));
        let second = r.read_frame(5).unwrap().unwrap();
        assert_eq!(second.samples, [-1.0, 32767.0 / 32768.0]);
        assert_eq!(r.read_frame(5).unwrap(), None);
        assert_eq!(r.trailing_bytes(), 1);
    }

    #[test]
    fn reads_floats() {
        let bytes: Vec<u8> = [0.25f32, -0.5].iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut r = PcmReader::new(&bytes[..], format(PcmEncoding::F32Le, 1));
        assert_eq!(r.read_frame(10).unwrap().unwrap().samples, [0.25, -0.5]);
        assert_eq!(r.read_frame(10).unwrap(), None);
        assert_eq!(r.trailing_bytes(), 0);
        assert_eq!(PcmEncoding::from_name("f32le"), Some(PcmEncoding::F32Le));
        assert_eq!(PcmEncoding::from_name("u8"), None);
    }

    #[test]
    fn formats_need_a_rate_and_take_defaults() {
        let f = PcmFormat::new(Some(16000), None, None).unwrap();
        assert_eq!((f.sample_rate, f.channels, f.encoding), (16000, 1, PcmEncoding::S16Le));
        assert_eq!(PcmFormat::new(None, None, None), Err(PcmFormatError::NoSampleRate));
        assert_eq!(PcmFormat::new(Some(999), None, None), Err(PcmFormatError::SampleRate(999)));
        assert_eq!(PcmFormat::new(Some(8000), Some(0), None), Err(PcmFormatError::Channels(0)));
        let unknown = PcmFormat::new(Some(8000), None, Some("alaw")).unwrap_err();
        // The message names every encoding there is.
        for (name, _) in PcmEncoding::NAMES {
            assert!(unknown.to_string().contains(name), "{unknown}");
        }
    }
}
