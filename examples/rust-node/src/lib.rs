//! A Rust node written the way a user writes one: implement
//! [`nodehost_sdk::Node`] and list the type in `export_nodes!`; log with the
//! `log` crate's macros.
//! `cargo build -p example-rust-node --target wasm32-wasip2 --release`
//! gives `example_rust_node.wasm`, a component any pipeline can name.

use nodehost_sdk::{Node, NodeError, ParamInfo, Params, Value};

/// Limits numbers to `[low, high]` and counts how many it had to change.
pub struct Clamp {
    low: f64,
    high: f64,
    clamped: u64,
}

impl Node for Clamp {
    const NAME: &'static str = "clamp";
    const DESCRIPTION: &'static str = "Limits numbers to [low, high]; flush reports how many were changed.";

    fn params() -> Vec<ParamInfo> {
        vec![ParamInfo::required("low", "smallest value let through"), ParamInfo::required("high", "largest value let through")]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        let (low, high) = (params.require_f64("low")?, params.require_f64("high")?);
        if low > high {
            return Err(NodeError::invalid_params(format!("low {low} is above high {high}")));
        }
        log::debug!("limiting numbers to [{low}, {high}]");
        Ok(Clamp { low, high, clamped: 0 })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let x = input.as_f64().ok_or_else(|| NodeError::expected("a number", &input))?;
        let y = x.clamp(self.low, self.high);
        self.clamped += u64::from(y != x);
        out.push(Value::Float(y));
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        if self.clamped > 0 {
            log::info!("{} numbers were out of range", self.clamped);
        }
        out.push(Value::Map([("clamped", self.clamped as i64)].into_iter().collect()));
        Ok(())
    }
}

nodehost_sdk::export_nodes!(Clamp);
