//! Reading and writing WAV files: PCM (8, 16, 24, 32 bit) and IEEE float
//! (32, 64 bit), plain or `WAVE_FORMAT_EXTENSIBLE`, any channel count. Audio
//! enters a pipeline as [`AudioFrame`]s of a fixed number of frames.

use std::io::Write;

use nodehost_sdk::AudioFrame;

/// A decoded WAV file: interleaved samples in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Wav {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<f32>,
}

impl Wav {
    /// Split into frames of `frames` samples per channel (the last one may
    /// be shorter).
    pub fn frames(&self, frames: usize) -> impl Iterator<Item = AudioFrame> + '_ {
        let step = frames.max(1) * self.channels as usize;
        self.samples.chunks(step).map(|chunk| AudioFrame {
            samples: chunk.to_vec(),
            sample_rate: self.sample_rate,
            channels: self.channels,
        })
    }

    /// Duration in seconds.
    pub fn duration(&self) -> f64 {
        self.samples.len() as f64 / self.channels.max(1) as f64 / self.sample_rate.max(1) as f64
    }
}

/// Parse a WAV file.
pub fn decode(bytes: &[u8]) -> Result<Wav, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a WAV file (no RIFF/WAVE header)".into());
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &bytes[pos + 8..(pos + 8).saturating_add(size).min(bytes.len())];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err("fmt chunk is too short".into());
                }
                let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                let mut tag = u16_at(0);
                if tag == 0xFFFE && body.len() >= 26 {
                    tag = u16_at(24); // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
                }
                let rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                format = Some((tag, u16_at(2), rate, u16_at(14)));
            }
            b"data" => {
                let (tag, channels, sample_rate, bits) = format.ok_or("data chunk comes before the fmt chunk")?;
                if channels == 0 {
                    return Err("WAV file with 0 channels".into());
                }
                let samples = decode_samples(tag, bits, body)?;
                return Ok(Wav { sample_rate, channels, samples });
            }
            _ => {}
        }
        pos = pos + 8 + size + (size & 1);
    }
    Err("WAV file has no data chunk".into())
}

fn decode_samples(tag: u16, bits: u16, data: &[u8]) -> Result<Vec<f32>, String> {
    Ok(match (tag, bits) {
        (1, 8) => data.iter().map(|&b| (b as f32 - 128.0) / 128.0).collect(),
        (1, 16) => data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0).collect(),
        (1, 24) => data
            .chunks_exact(3)
            .map(|c| (i32::from_le_bytes([0, c[0], c[1], c[2]]) >> 8) as f32 / 8_388_608.0)
            .collect(),
        (1, 32) => data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f32 / 2_147_483_648.0)
            .collect(),
        (3, 32) => data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
        (3, 64) => data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
        (tag, bits) => return Err(format!("unsupported WAV encoding (format {tag}, {bits} bits); use PCM or float")),
    })
}

/// Write 16-bit PCM WAV.
pub fn encode_pcm16(wav: &Wav, mut out: impl Write) -> std::io::Result<()> {
    let data_len = (wav.samples.len() * 2) as u32;
    let block = wav.channels as u32 * 2;
    out.write_all(b"RIFF")?;
    out.write_all(&(36 + data_len).to_le_bytes())?;
    out.write_all(b"WAVEfmt ")?;
    out.write_all(&16u32.to_le_bytes())?;
    out.write_all(&1u16.to_le_bytes())?;
    out.write_all(&wav.channels.to_le_bytes())?;
    out.write_all(&wav.sample_rate.to_le_bytes())?;
    out.write_all(&(wav.sample_rate * block).to_le_bytes())?;
    out.write_all(&(block as u16).to_le_bytes())?;
    out.write_all(&16u16.to_le_bytes())?;
    out.write_all(b"data")?;
    out.write_all(&data_len.to_le_bytes())?;
    for &s in &wav.samples {
        out.write_all(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16_round_trip() {
        let wav = Wav { sample_rate: 8000, channels: 2, samples: vec![0.0, 0.5, -0.5, 1.0, -1.0, 0.25] };
        let mut bytes = Vec::new();
        encode_pcm16(&wav, &mut bytes).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!((back.sample_rate, back.channels), (8000, 2));
        for (a, b) in wav.samples.iter().zip(&back.samples) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        let frames: Vec<_> = back.frames(2).collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].samples.len(), 4);
        assert_eq!(frames[1].samples.len(), 2);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(decode(b"hello").unwrap_err().contains("not a WAV"));
        let mut bytes = Vec::new();
        encode_pcm16(&Wav { sample_rate: 8000, channels: 1, samples: vec![0.0] }, &mut bytes).unwrap();
        bytes[20] = 7; // format tag
        assert!(decode(&bytes).unwrap_err().contains("unsupported WAV encoding"));
    }
}
