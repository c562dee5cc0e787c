//! `accumulator`: sum, average and count over a sliding window.

use std::collections::VecDeque;

use nodehost_sdk::{Map, Node, NodeError, ParamInfo, Params, Value};

/// Keeps the last `window` numbers and gives `{sum, average, count}` after
/// each input.
pub struct Accumulator {
    window: usize,
    values: VecDeque<f64>,
}

impl Node for Accumulator {
    const NAME: &'static str = "accumulator";
    const DESCRIPTION: &'static str = "Sum, average and count over a sliding window of numbers.";

    fn params() -> Vec<ParamInfo> {
        vec![ParamInfo::optional("window", 10, "how many recent numbers to keep")]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["window"])?;
        let window = params.i64("window")?.unwrap_or(10);
        if !(1..=1_000_000).contains(&window) {
            return Err(NodeError::invalid_params(format!("window must be 1..=1000000, got {window}")));
        }
        Ok(Accumulator { window: window as usize, values: VecDeque::new() })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let x = input.as_f64().ok_or_else(|| NodeError::expected("a number", &input))?;
        if self.values.len() == self.window {
            self.values.pop_front();
        }
        self.values.push_back(x);
        // Summed afresh, in order, so no rounding error builds up over a long stream.
        let sum: f64 = self.values.iter().sum();
        let count = self.values.len();
        let mut m = Map::with_capacity(3);
        m.insert("sum", sum);
        m.insert("average", sum / count as f64);
        m.insert("count", count as i64);
        out.push(Value::Map(m));
        Ok(())
    }
}
