//! `filter`: passes on the numbers within `[min, max]` and drops the rest.

use nodehost_sdk::{Node, NodeError, ParamInfo, Params, Value};

/// Passes on inputs whose number lies within `[min, max]` (either bound may
/// be left out). With `field`, inputs are maps and that entry is compared.
pub struct Filter {
    min: f64,
    max: f64,
    field: Option<String>,
}

impl Node for Filter {
    const NAME: &'static str = "filter";
    const DESCRIPTION: &'static str = "Passes on numbers within [min, max]; drops the rest.";

    fn params() -> Vec<ParamInfo> {
        vec![
            ParamInfo::optional("min", f64::NEG_INFINITY, "lowest number passed"),
            ParamInfo::optional("max", f64::INFINITY, "highest number passed"),
            ParamInfo::optional("field", Value::Null, "compare this entry of map inputs"),
        ]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["min", "max", "field"])?;
        let min = params.f64("min")?.unwrap_or(f64::NEG_INFINITY);
        let max = params.f64("max")?.unwrap_or(f64::INFINITY);
        if min > max {
            return Err(NodeError::invalid_params(format!("min {min} is greater than max {max}")));
        }
        Ok(Filter { min, max, field: params.str("field")?.map(str::to_owned) })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let subject = match &self.field {
            Some(f) => input.get(f).ok_or_else(|| NodeError::expected(&format!("a map with '{f}'"), &input))?,
            None => &input,
        };
        let x = subject.as_f64().ok_or_else(|| NodeError::expected("a number", subject))?;
        if (self.min..=self.max).contains(&x) {
            out.push(input);
        }
        Ok(())
    }
}
