//! Guest text on its way to a terminal: control characters escaped, so a
//! node cannot move the cursor, change colours or forge lines of the host's
//! own output.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with control characters (C0, DEL, C1, and the bidirectional
/// overrides) written as `\u{..}` escapes; tabs stay, and newlines stay
/// when `keep_newlines` (multi-line tracebacks) and become `\n` otherwise.
pub fn escape_controls(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| match c {
        '\t' => false,
        '\n' => !keep_newlines,
        c => c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'),
    };
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
        } else if c == '\n' {
            out.push_str("\\n");
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_not_copied() {
        assert!(matches!(escape_controls("plain text\twith a tab", false), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escape_controls("red \u{1b}[31m!", false), "red \\u{1b}[31m!");
        assert_eq!(escape_controls("a\nb\r", false), "a\\nb\\u{d}");
        assert_eq!(escape_controls("a\nb\r", true), "a\nb\\u{d}");
        assert_eq!(escape_controls("\u{202e}evil", true), "\\u{202e}evil");
        assert_eq!(escape_controls("\u{7f}\u{9b}", true), "\\u{7f}\\u{9b}");
    }
}
