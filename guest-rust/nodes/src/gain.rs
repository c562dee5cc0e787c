//! `gain`: scales audio by a fixed factor.

use nodehost_sdk::{ArrayData, Node, NodeError, ParamInfo, Params, Value};

/// Multiplies every audio sample (or every element of an f32/f64 array) by
/// a linear factor, given as `gain` or as `db`. With `clip`, samples are
/// limited to [-1, 1].
pub struct Gain {
    factor: f32,
    clip: bool,
}

impl Node for Gain {
    const NAME: &'static str = "gain";
    const DESCRIPTION: &'static str = "Scales audio samples by a linear factor or by decibels.";

    fn params() -> Vec<ParamInfo> {
        vec![
            ParamInfo::optional("gain", 1.0, "linear factor"),
            ParamInfo::optional("db", Value::Null, "factor in decibels (instead of gain)"),
            ParamInfo::optional("clip", false, "limit samples to [-1, 1]"),
        ]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["gain", "db", "clip"])?;
        let factor = match (params.f64("gain")?, params.f64("db")?) {
            (Some(_), Some(_)) => return Err(NodeError::invalid_params("give either 'gain' or 'db', not both")),
            (Some(g), None) => g,
            (None, Some(db)) => 10f64.powf(db / 20.0),
            (None, None) => 1.0,
        };
        if !factor.is_finite() {
            return Err(NodeError::invalid_params(format!("gain must be finite, got {factor}")));
        }
        let clip = params.bool("clip")?.unwrap_or(false);
        log::debug!("factor {factor}, clip {clip}");
        Ok(Gain { factor: factor as f32, clip })
    }

    fn process(&mut self, mut input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let (factor, clip) = (self.factor, self.clip);
        let scale = |x: f32| {
            let y = x * factor;
            if clip { y.clamp(-1.0, 1.0) } else { y }
        };
        match &mut input {
            Value::Audio(frame) => frame.samples.iter_mut().for_each(|s| *s = scale(*s)),
            Value::Array(a) => match &mut a.data {
                ArrayData::F32(v) => v.iter_mut().for_each(|s| *s = scale(*s)),
                ArrayData::F64(v) => v.iter_mut().for_each(|s| *s = scale(*s as f32) as f64),
                ArrayData::I64(_) => return Err(NodeError::expected("audio or a float array", &input)),
            },
            _ => return Err(NodeError::expected("audio", &input)),
        }
        out.push(input);
        Ok(())
    }
}
