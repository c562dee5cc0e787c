//! How outputs are written: one line per output, JSON or text.

use nodehost_sdk::Value;

use crate::manifest::OutputFormat;
use crate::pipeline::Output;
use crate::value::json::{write_json, write_str};
use crate::value::text::escape_controls;

/// Format one output line. In text format a string is written as it is,
/// except for control characters (a newline included), which are escaped:
/// one output stays one line, and a node cannot send escape sequences to
/// the terminal.
pub fn format_output(output: &Output, format: OutputFormat, tag: bool) -> String {
    let mut line = Vec::new();
    write_output(&mut line, output, format, tag);
    String::from_utf8(line).expect("output lines are UTF-8")
}

/// Append one output line (without its newline) to `line`, as
/// [`format_output`] gives it.
pub fn write_output(line: &mut Vec<u8>, output: &Output, format: OutputFormat, tag: bool) {
    if tag {
        match format {
            OutputFormat::Text => {
                line.extend_from_slice(output.node.as_bytes());
                line.extend_from_slice(b": ");
            }
            OutputFormat::Jsonl => {
                line.extend_from_slice(b"{\"node\":");
                write_str(line, &output.node);
                line.extend_from_slice(b",\"value\":");
            }
        }
    }
    match (&output.value, format) {
        (Value::Str(s), OutputFormat::Text) => line.extend_from_slice(escape_controls(s, false).as_bytes()),
        (v, _) => write_json(line, v),
    }
    if tag && format == OutputFormat::Jsonl {
        line.push(b'}');
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
        assert_eq!(format_output(&output, OutputFormat::Jsonl, true), "{\"node\":\"n\",\"value\":\"a\\nb \\u001b[2J\"}");
        assert_eq!(format_output(&output, OutputFormat::Text, true), "n: a\\nb \\u{1b}[2J");
    }
}
