//! `resample`: converts a stream of audio frames to another sample rate
//! (and to mono), for nodes that need one rate, such as a recognizer at
//! 16 kHz.

use nodehost_sdk::{AudioFrame, Node, NodeError, ParamInfo, Params, Value};
use rubato::{Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction};

/// Input frames the sinc resampler converts at a time: about 20 ms at
/// 48 kHz, so output keeps pace with 20 ms input frames.
const CHUNK: usize = 1024;

/// Resamples audio frames to `rate` with a band-limited (windowed sinc)
/// resampler, mixing the channels down to one with `mono`. The stream
/// keeps its timing (to a sample) and its length: the resampler's tail is
/// given out at the end, so N input frames at rate R become
/// round(N x rate / R) output frames. Frames at `rate` already pass
/// through (mixed down if asked). A stream's rate and channels may not
/// change midway.
pub struct Resample {
    rate: u32,
    mono: bool,
    stream: Option<Stream>,
}

/// What a stream's first frame fixed, and the conversion's state.
struct Stream {
    in_rate: u32,
    in_channels: u16,
    /// Channels given out: 1 with `mono`, else the input's.
    channels: usize,
    /// `None` when the input is at the output rate already.
    sinc: Option<Sinc>,
    /// Converted samples (interleaved) not given out yet.
    queue: Vec<f32>,
    /// Frames per output frame: the longest input frame's, converted.
    frame_out: usize,
}

struct Sinc {
    resampler: SincFixedIn<f32>,
    /// Input waiting for a whole chunk, per channel.
    pending: Vec<Vec<f32>>,
    /// Output rate over input rate.
    ratio: f64,
    frames_in: u64,
    frames_out: u64,
}

impl Node for Resample {
    const NAME: &'static str = "resample";
    const DESCRIPTION: &'static str = "Converts audio to another sample rate (band-limited sinc), optionally to mono.";

    fn params() -> Vec<ParamInfo> {
        vec![
            ParamInfo::optional("rate", 16000, "output sample rate in Hz"),
            ParamInfo::optional("mono", true, "mix the channels down to one"),
        ]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["rate", "mono"])?;
        let rate = params.i64("rate")?.unwrap_or(16000);
        let rate = u32::try_from(rate)
            .ok()
            .filter(|r| (1000..=384_000).contains(r))
            .ok_or_else(|| NodeError::invalid_params(format!("rate must be 1000..=384000 Hz, got {rate}")))?;
        Ok(Resample { rate, mono: params.bool("mono")?.unwrap_or(true), stream: None })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let Value::Audio(frame) = input else {
            return Err(NodeError::expected("audio", &input));
        };
        frame.check().map_err(NodeError::invalid_input)?;
        if frame.sample_rate == 0 {
            return Err(NodeError::invalid_input("audio frame with a sample rate of 0 Hz"));
        }
        let stream = match &mut self.stream {
            Some(stream) => {
                if (frame.sample_rate, frame.channels) != (stream.in_rate, stream.in_channels) {
                    return Err(NodeError::invalid_input(format!(
                        "the stream changed from {} Hz, {} channels to {} Hz, {} channels",
                        stream.in_rate, stream.in_channels, frame.sample_rate, frame.channels
                    )));
                }
                stream
            }
            None => self.stream.insert(Stream::new(&frame, self.rate, self.mono)?),
        };
        let channels = split_channels(&frame, stream.channels);
        let Some(sinc) = &mut stream.sinc else {
            out.push(Value::Audio(AudioFrame { samples: interleave(&channels), sample_rate: self.rate, channels: stream.channels as u16 }));
            return Ok(());
        };
        // Frames out as long as the frames in (20 ms in, 20 ms out), so a
        // resampled stream is cut as one recorded at the new rate would be.
        let frames_in = channels[0].len();
        stream.frame_out = stream.frame_out.max((frames_in as f64 * sinc.ratio).round() as usize).max(1);
        let converted = sinc.push(&channels)?;
        stream.queue.extend_from_slice(&converted);
        stream.give(self.rate, false, out);
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let Some(stream) = &mut self.stream else {
            return Ok(());
        };
        let Some(sinc) = &mut stream.sinc else {
            return Ok(());
        };
        let tail = sinc.finish()?;
        stream.queue.extend_from_slice(&tail);
        stream.give(self.rate, true, out);
        Ok(())
    }
}

impl Stream {
    fn new(first: &AudioFrame, rate: u32, mono: bool) -> Result<Self, NodeError> {
        let channels = if mono { 1 } else { usize::from(first.channels) };
        let sinc = (first.sample_rate != rate).then(|| Sinc::new(first.sample_rate, rate, channels)).transpose()?;
        log::debug!("{} Hz, {} channels -> {rate} Hz, {channels} channels", first.sample_rate, first.channels);
        Ok(Stream { in_rate: first.sample_rate, in_channels: first.channels, channels, sinc, queue: Vec::new(), frame_out: 0 })
    }

    /// Gives out the queue in frames of `frame_out` frames; with `all`,
    /// the rest too (a shorter last frame).
    fn give(&mut self, rate: u32, all: bool, out: &mut Vec<Value>) {
        let width = self.frame_out.max(1) * self.channels;
        let mut given = 0;
        while self.queue.len() - given >= width || (all && given < self.queue.len()) {
            let end = (given + width).min(self.queue.len());
            let samples = self.queue[given..end].to_vec();
            out.push(Value::Audio(AudioFrame { samples, sample_rate: rate, channels: self.channels as u16 }));
            given = end;
        }
        self.queue.drain(..given);
    }
}

impl Sinc {
    fn new(from: u32, to: u32, channels: usize) -> Result<Self, NodeError> {
        let params = SincInterpolationParameters {
            sinc_len: 128,
            f_cutoff: 0.925,
            interpolation: SincInterpolationType::Linear,
            oversampling_factor: 128,
            window: WindowFunction::BlackmanHarris2,
        };
        let ratio = f64::from(to) / f64::from(from);
        let resampler = SincFixedIn::<f32>::new(ratio, 1.0, params, CHUNK, channels)
            .map_err(|e| NodeError::invalid_params(format!("resampling {from} Hz to {to} Hz: {e}")))?;
        Ok(Sinc { resampler, pending: vec![Vec::new(); channels], ratio, frames_in: 0, frames_out: 0 })
    }

    /// Output frames the input so far makes, once all of it is through.
    fn frames_due(&self) -> u64 {
        (self.frames_in as f64 * self.ratio).round() as u64
    }

    /// Takes `channels` in; gives out what whole chunks of input make.
    fn push(&mut self, channels: &[Vec<f32>]) -> Result<Vec<f32>, NodeError> {
        self.frames_in += channels[0].len() as u64;
        for (pending, new) in self.pending.iter_mut().zip(channels) {
            pending.extend_from_slice(new);
        }
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); self.pending.len()];
        while self.pending[0].len() >= self.resampler.input_frames_next() {
            let need = self.resampler.input_frames_next();
            let chunk: Vec<Vec<f32>> = self.pending.iter_mut().map(|p| p.drain(..need).collect()).collect();
            let converted = self.resampler.process(&chunk, None).map_err(resample_error)?;
            self.take(converted, &mut out);
        }
        Ok(interleave(&out))
    }

    /// End of stream: the pending input and the resampler's tail, cut to
    /// the length the input makes.
    fn finish(&mut self) -> Result<Vec<f32>, NodeError> {
        let due = self.frames_due();
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); self.pending.len()];
        let pending = std::mem::take(&mut self.pending);
        if !pending[0].is_empty() {
            let converted = self.resampler.process_partial(Some(&pending), None).map_err(resample_error)?;
            self.take(converted, &mut out);
        }
        // The resampler holds its delay's worth of output back: feed it
        // silence until it has given out all the input made.
        while self.frames_out < due {
            let converted = self.resampler.process_partial::<Vec<f32>>(None, None).map_err(resample_error)?;
            if converted[0].is_empty() {
                break;
            }
            self.take(converted, &mut out);
        }
        let extra = (self.frames_out.saturating_sub(due)) as usize;
        for channel in &mut out {
            channel.truncate(channel.len().saturating_sub(extra));
        }
        self.frames_out -= extra as u64;
        self.pending = vec![Vec::new(); out.len()];
        Ok(interleave(&out))
    }

    /// Appends `converted` to `out`. (rubato's sinc resamplers give their
    /// first output without their filter's delay: the tests check that
    /// the stream keeps its timing to a sample.)
    fn take(&mut self, converted: Vec<Vec<f32>>, out: &mut [Vec<f32>]) {
        self.frames_out += converted[0].len() as u64;
        for (out, converted) in out.iter_mut().zip(converted) {
            out.extend_from_slice(&converted);
        }
    }
}

fn resample_error(e: rubato::ResampleError) -> NodeError {
    NodeError::raised(format!("resampling: {e}"))
}

/// The frame's samples per channel: `channels` of them, or one (the mean
/// of all) when `channels` is 1.
fn split_channels(frame: &AudioFrame, channels: usize) -> Vec<Vec<f32>> {
    let width = usize::from(frame.channels);
    if channels == 1 && width > 1 {
        let scale = 1.0 / width as f32;
        return vec![frame.samples.chunks_exact(width).map(|f| f.iter().sum::<f32>() * scale).collect()];
    }
    (0..width).map(|c| frame.samples.iter().skip(c).step_by(width).copied().collect()).collect()
}

fn interleave(channels: &[Vec<f32>]) -> Vec<f32> {
    if let [one] = channels {
        return one.clone();
    }
    let frames = channels.first().map_or(0, Vec::len);
    (0..frames).flat_map(|i| channels.iter().map(move |c| c[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(rate: i64, mono: bool) -> Resample {
        let mut params = nodehost_sdk::Map::new();
        params.insert("rate", rate);
        params.insert("mono", mono);
        Resample::new(&Params::from_value(Value::Map(params)).unwrap()).unwrap()
    }

    /// A sine of `hz` at `rate`, `seconds` long, in frames of `frame` samples.
    fn sine(hz: f64, rate: u32, channels: u16, seconds: f64, frame: usize) -> Vec<Value> {
        let n = (seconds * f64::from(rate)) as usize;
        let samples: Vec<f32> = (0..n)
            .flat_map(|i| {
                let s = (0.5 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin()) as f32;
                std::iter::repeat_n(s, usize::from(channels))
            })
            .collect();
        samples
            .chunks(frame * usize::from(channels))
            .map(|c| Value::Audio(AudioFrame { samples: c.to_vec(), sample_rate: rate, channels }))
            .collect()
    }

    fn run(node: &mut Resample, frames: Vec<Value>) -> AudioFrame {
        let mut out = Vec::new();
        for f in frames {
            node.process(f, &mut out).unwrap();
        }
        node.flush(&mut out).unwrap();
        let mut all = AudioFrame { samples: Vec::new(), sample_rate: 0, channels: 0 };
        for v in out {
            let Value::Audio(a) = v else { panic!("{v:?}") };
            all.sample_rate = a.sample_rate;
            all.channels = a.channels;
            all.samples.extend(a.samples);
        }
        all
    }

    /// The frequency of a mono signal, from its zero crossings.
    fn frequency(samples: &[f32], rate: u32) -> f64 {
        let crossings = samples.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        crossings as f64 / 2.0 / (samples.len() as f64 / f64::from(rate))
    }

    #[test]
    fn keeps_length_timing_and_pitch_across_rates() {
        for (from, frame) in [(48000, 960), (44100, 441), (22050, 1000), (8000, 160)] {
            let out = run(&mut node(16000, true), sine(440.0, from, 1, 2.0, frame));
            assert_eq!((out.sample_rate, out.channels), (16000, 1));
            assert_eq!(out.samples.len(), 32000, "{from} Hz");
            let f = frequency(&out.samples, 16000);
            assert!((f - 440.0).abs() < 1.0, "{from} Hz: {f} Hz");
            // No delay: the sine starts at the start (its first peak is
            // at 1/4 period, 9 samples at 16 kHz).
            let first_peak = out.samples[..40].iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
            assert!((7..=11).contains(&first_peak), "{from} Hz: first peak at {first_peak}");
        }
    }

    #[test]
    fn frames_out_last_as_long_as_frames_in() {
        let mut n = node(16000, true);
        let mut out = Vec::new();
        for frame in sine(440.0, 44100, 2, 1.0, 882) {
            n.process(frame, &mut out).unwrap();
        }
        n.flush(&mut out).unwrap();
        let lengths: Vec<usize> = out.iter().map(|v| if let Value::Audio(a) = v { a.samples.len() } else { 0 }).collect();
        let (last, whole) = lengths.split_last().unwrap();
        assert!(whole.iter().all(|&l| l == 320), "{lengths:?}");
        assert!((1..=320).contains(last), "{lengths:?}");
        assert_eq!(lengths.iter().sum::<usize>(), 16000);
    }

    #[test]
    fn removes_what_the_new_rate_cannot_carry() {
        // Above 16 kHz's Nyquist frequency (8 kHz): without the filter,
        // 9 kHz would fold back as 7 kHz and 12 kHz as 4 kHz.
        for hz in [9000.0, 12000.0] {
            let out = run(&mut node(16000, true), sine(hz, 48000, 1, 1.0, 960));
            let rms = (out.samples.iter().map(|s| s * s).sum::<f32>() / out.samples.len() as f32).sqrt();
            assert!(rms < 0.01, "{hz} Hz: rms {rms} (0.35 unfiltered)");
        }
    }

    #[test]
    fn mixes_down_or_keeps_channels_and_passes_its_own_rate_through() {
        let out = run(&mut node(16000, true), sine(440.0, 44100, 2, 0.5, 441));
        assert_eq!((out.channels, out.samples.len()), (1, 8000));
        let out = run(&mut node(16000, false), sine(440.0, 44100, 2, 0.5, 441));
        assert_eq!((out.channels, out.samples.len()), (2, 16000));
        let input = sine(440.0, 16000, 1, 0.5, 320);
        let expected: Vec<f32> =
            input.iter().flat_map(|v| if let Value::Audio(a) = v { a.samples.clone() } else { vec![] }).collect();
        assert_eq!(run(&mut node(16000, true), input).samples, expected);
    }

    #[test]
    fn refuses_a_stream_that_changes_and_what_is_not_audio() {
        let mut n = node(16000, true);
        let mut out = Vec::new();
        n.process(sine(440.0, 48000, 1, 0.1, 960).remove(0), &mut out).unwrap();
        let e = n.process(sine(440.0, 44100, 1, 0.1, 441).remove(0), &mut out).unwrap_err();
        assert!(e.message.contains("changed from 48000 Hz"), "{e:?}");
        assert!(n.process(Value::Int(1), &mut out).is_err());
        let mut params = nodehost_sdk::Map::new();
        params.insert("rate", 10);
        assert!(Resample::new(&Params::from_value(Value::Map(params)).unwrap()).is_err());
    }
}
