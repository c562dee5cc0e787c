//! How outputs are written: one line per output, JSON or text.

use nodehost_sdk::Value;

use crate::manifest::OutputFormat;
use crate::pipeline::Output;
use crate::value::text::escape_controls;

/// Format one output line. In text format a string is written as it is,
/// except for control characters (a newline included), which are escaped:
/// one output stays one line, and a node cannot send escape sequences to
/// the terminal.
pub fn format_output(output: &Output, format: OutputFormat, tag: bool) -> String {
    let body = match (&output.value, format) {
        (Value::Str(s), OutputFormat::Text) => escape_controls(s, false).into_owned(),
        (v, _) => crate::value::json::to_json(v).to_string(),
    };
    if tag {
        match format {
            OutputFormat::Text => format!("{}: {body}", output.node),
            OutputFormat::Jsonl => format!(
                "{{\"node\":{},\"value\":{body}}}",
                serde_json::Value::String(output.node.clone())
            ),
        }
    } else {
        body
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_output_is_one_line_without_escape_sequences() {
        let output = Output { node: "n".into(), value: Value::Str("a\nb \u{1b}[2J".into()) };
        assert_eq!(format_output(&output, OutputFormat::Text, false), "a\\nb \\u{1b}[2J");
        assert_eq!(format_output(&output, OutputFormat::Jsonl, false), "\"a\\nb \\u001b[2J\"");
    }
}
