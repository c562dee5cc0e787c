//! `pass-through`: gives every input back unchanged.

use nodehost_sdk::{Node, NodeError, Params, Value};

/// Gives every input back unchanged.
pub struct PassThrough;

impl Node for PassThrough {
    const NAME: &'static str = "pass-through";
    const DESCRIPTION: &'static str = "Gives every input back unchanged.";

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&[])?;
        Ok(PassThrough)
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        out.push(input);
        Ok(())
    }
}
