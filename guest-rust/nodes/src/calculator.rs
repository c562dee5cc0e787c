//! `calculator`: applies one arithmetic operation with a fixed operand.

use nodehost_sdk::{Node, NodeError, ParamInfo, Params, Value};

/// The operation a [`Calculator`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Add,
    Subtract,
    Multiply,
    Divide,
}

/// Applies `operation` with `operand` to each number. Ints stay ints for
/// add, subtract and multiply (an overflow is an error); divide always gives
/// a float, and dividing by zero is a node error.
pub struct Calculator {
    operation: Operation,
    operand: Value,
}

impl Node for Calculator {
    const NAME: &'static str = "calculator";
    const DESCRIPTION: &'static str = "Adds, subtracts, multiplies or divides each number by an operand.";

    fn params() -> Vec<ParamInfo> {
        vec![
            ParamInfo::optional("operation", "add", "add, subtract, multiply or divide"),
            ParamInfo::optional("operand", 0, "the number to apply"),
        ]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["operation", "operand"])?;
        let operation = match params.str("operation")?.unwrap_or("add") {
            "add" => Operation::Add,
            "subtract" => Operation::Subtract,
            "multiply" => Operation::Multiply,
            "divide" => Operation::Divide,
            other => {
                return Err(NodeError::invalid_params(format!(
                    "unknown operation '{other}' (add, subtract, multiply, divide)"
                )));
            }
        };
        let operand = match params.get("operand") {
            None => Value::Int(0),
            Some(v @ (Value::Int(_) | Value::Float(_))) => v.clone(),
            Some(v) => return Err(NodeError::invalid_params(format!("parameter 'operand' must be a number, got {v}"))),
        };
        Ok(Calculator { operation, operand })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        out.push(apply(self.operation, &input, &self.operand)?);
        Ok(())
    }
}

/// `a op b` with Python's number rules.
pub fn apply(op: Operation, a: &Value, b: &Value) -> Result<Value, NodeError> {
    if let (Value::Int(x), Value::Int(y), true) = (a, b, op != Operation::Divide) {
        let r = match op {
            Operation::Add => x.checked_add(*y),
            Operation::Subtract => x.checked_sub(*y),
            _ => x.checked_mul(*y),
        };
        return r
            .map(Value::Int)
            .ok_or_else(|| NodeError::raised(format!("integer overflow in {x} {op:?} {y}")));
    }
    let x = a.as_f64().ok_or_else(|| NodeError::expected("a number", a))?;
    let y = b.as_f64().ok_or_else(|| NodeError::expected("a number", b))?;
    Ok(Value::Float(match op {
        Operation::Add => x + y,
        Operation::Subtract => x - y,
        Operation::Multiply => x * y,
        Operation::Divide if y == 0.0 => return Err(NodeError::raised("division by zero")),
        Operation::Divide => x / y,
    }))
}
