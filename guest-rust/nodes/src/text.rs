//! `text`: upper-cases, lower-cases, reverses or formats text.

use std::fmt::Write as _;

use nodehost_sdk::{Node, NodeError, ParamInfo, Params, Value};

/// What a [`Text`] node does.
enum Mode {
    Upper,
    Lower,
    Reverse,
    Format(Vec<Segment>),
}

/// A piece of a parsed format template.
#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    /// `{}` or `{value}`: the whole input; `{name}`: the map entry `name`;
    /// `{name:.N}`: a number with N decimals.
    Field { name: Option<String>, precision: Option<usize> },
}

/// Text transforms: `upper`, `lower` and `reverse` take strings; `format`
/// renders any input through `template`, where `{name}` is a map entry,
/// `{}` the whole input, `{name:.2}` a number with two decimals and `{{`/`}}`
/// literal braces.
pub struct Text {
    mode: Mode,
}

impl Node for Text {
    const NAME: &'static str = "text";
    const DESCRIPTION: &'static str = "Upper-cases, lower-cases, reverses or formats text.";

    fn params() -> Vec<ParamInfo> {
        vec![
            ParamInfo::optional("operation", "upper", "upper, lower, reverse or format"),
            ParamInfo::optional("template", Value::Null, "for format: e.g. \"{name} is {level:.1} dB\""),
        ]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["operation", "template"])?;
        let mode = match params.str("operation")?.unwrap_or("upper") {
            "upper" => Mode::Upper,
            "lower" => Mode::Lower,
            "reverse" => Mode::Reverse,
            "format" => Mode::Format(parse_template(params.require_str("template")?)?),
            other => {
                return Err(NodeError::invalid_params(format!(
                    "unknown operation '{other}' (upper, lower, reverse, format)"
                )));
            }
        };
        Ok(Text { mode })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let text = match &self.mode {
            Mode::Format(segments) => render(segments, &input)?,
            mode => {
                let s = input.as_str().ok_or_else(|| NodeError::expected("a string", &input))?;
                match mode {
                    Mode::Upper => s.to_uppercase(),
                    Mode::Lower => s.to_lowercase(),
                    _ => s.chars().rev().collect(),
                }
            }
        };
        out.push(Value::Str(text));
        Ok(())
    }
}

fn parse_template(template: &str) -> Result<Vec<Segment>, NodeError> {
    let bad = |why: &str| NodeError::invalid_params(format!("template {template:?}: {why}"));
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '}' => return Err(bad("unmatched '}' (write '}}' for a brace)")),
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => return Err(bad("unclosed '{' (write '{{' for a brace)")),
                        Some(c) => field.push(c),
                    }
                }
                let (name, spec) = field.split_once(':').unwrap_or((&field, ""));
                let precision = match spec {
                    "" => None,
                    spec => Some(
                        spec.strip_prefix('.')
                            .and_then(|p| p.parse::<usize>().ok())
                            .filter(|&p| p <= 17)
                            .ok_or_else(|| bad(&format!("format spec ':{spec}' is not ':.N' (N up to 17)")))?,
                    ),
                };
                let name = match name.trim() {
                    "" | "value" => None,
                    n => Some(n.to_owned()),
                };
                if !literal.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Field { name, precision });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

fn render(segments: &[Segment], input: &Value) -> Result<String, NodeError> {
    // The literal text, and room for a typical field: one allocation for
    // most renders.
    let literal: usize = segments.iter().map(|s| if let Segment::Literal(l) = s { l.len() } else { 24 }).sum();
    let mut s = String::with_capacity(literal);
    for segment in segments {
        match segment {
            Segment::Literal(l) => s.push_str(l),
            Segment::Field { name, precision } => {
                let v = match name {
                    None => input,
                    Some(n) => input
                        .get(n)
                        .ok_or_else(|| NodeError::expected(&format!("a map with an entry '{n}'"), input))?,
                };
                match (v, precision) {
                    (Value::Str(t), _) => s.push_str(t),
                    (Value::Int(i), None) => s.push_str(itoa::Buffer::new().format(*i)),
                    (v, Some(p)) => {
                        let x = v.as_f64().ok_or_else(|| NodeError::expected("a number for ':.N'", v))?;
                        let _ = write!(s, "{x:.p$}");
                    }
                    (v, None) => {
                        let _ = write!(s, "{v}");
                    }
                }
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodehost_sdk::Map;

    fn run(params: &[(&str, &str)], input: Value) -> Result<String, NodeError> {
        let params = Params::from_value(Value::Map(params.iter().map(|(k, v)| (*k, *v)).collect::<Map>()))?;
        let mut node = Text::new(&params)?;
        let mut out = Vec::new();
        Node::process(&mut node, input, &mut out)?;
        Ok(out.pop().unwrap().as_str().unwrap().to_owned())
    }

    #[test]
    fn transforms() {
        assert_eq!(run(&[("operation", "upper")], "abc".into()).unwrap(), "ABC");
        assert_eq!(run(&[("operation", "lower")], "AbC".into()).unwrap(), "abc");
        assert_eq!(run(&[("operation", "reverse")], "abc".into()).unwrap(), "cba");
    }

    #[test]
    fn format_fields_and_precision() {
        let mut m = Map::new();
        m.insert("name", "kick");
        m.insert("db", -12.3456);
        m.insert("on", true);
        let t = [("operation", "format"), ("template", "{{{name}}} {db:.1} dB {on} {}")];
        assert_eq!(
            run(&t, Value::Map(m)).unwrap(),
            "{kick} -12.3 dB True {\"name\": \"kick\", \"db\": -12.3456, \"on\": True}"
        );
        assert_eq!(run(&[("operation", "format"), ("template", "n={}")], 5.into()).unwrap(), "n=5");
        // Ints as Python's str() writes them, at the edges too.
        assert_eq!(run(&[("operation", "format"), ("template", "{} |")], Value::Int(i64::MIN)).unwrap(), "-9223372036854775808 |");
        assert_eq!(run(&[("operation", "format"), ("template", "{}")], Value::Int(-7)).unwrap(), "-7");
    }

    #[test]
    fn bad_templates_and_inputs_are_clear() {
        let e = run(&[("operation", "format"), ("template", "{x")], Value::Null).unwrap_err();
        assert!(e.message.contains("unclosed"), "{e}");
        let e = run(&[("operation", "format"), ("template", "{x:7}")], Value::Null).unwrap_err();
        assert!(e.message.contains(":.N"), "{e}");
        let e = run(&[("operation", "format"), ("template", "{x}")], Value::Int(1)).unwrap_err();
        assert!(e.message.contains("entry 'x'"), "{e}");
        let e = run(&[("operation", "upper")], Value::Int(1)).unwrap_err();
        assert_eq!(e.message, "expected a string, got int 1");
    }
}
