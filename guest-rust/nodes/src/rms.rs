//! `rms`: RMS level and energy of each audio frame, with an activity flag.

use nodehost_sdk::{Map, Node, NodeError, ParamInfo, Params, Value};

/// For each audio frame gives `{rms, rms_db, peak, energy, active}`, where
/// `active` says whether `rms_db` reaches `threshold_db`.
pub struct Rms {
    threshold_db: f64,
}

impl Node for Rms {
    const NAME: &'static str = "rms";
    const DESCRIPTION: &'static str = "RMS level, peak and energy of each audio frame, with an activity flag.";

    fn params() -> Vec<ParamInfo> {
        vec![ParamInfo::optional("threshold_db", -40.0, "level (dBFS) at which a frame counts as active")]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["threshold_db"])?;
        Ok(Rms { threshold_db: params.f64("threshold_db")?.unwrap_or(-40.0) })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let Value::Audio(frame) = &input else {
            return Err(NodeError::expected("audio", &input));
        };
        let n = frame.samples.len().max(1) as f64;
        let energy: f64 = frame.samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
        let peak = frame.samples.iter().fold(0f32, |m, s| m.max(s.abs())) as f64;
        let rms = (energy / n).sqrt();
        let rms_db = if rms > 0.0 { 20.0 * rms.log10() } else { -120.0 };
        let mut m = Map::with_capacity(5);
        m.insert("rms", rms);
        m.insert("rms_db", rms_db);
        m.insert("peak", peak);
        m.insert("energy", energy);
        m.insert("active", rms_db >= self.threshold_db);
        out.push(Value::Map(m));
        Ok(())
    }
}
