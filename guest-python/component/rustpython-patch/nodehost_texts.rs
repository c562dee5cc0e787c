//! nodehost: the texts of built-in errors as CPython 3.11 writes them.
//!
//! RustPython 0.6 words several common errors as CPython 3.12-3.14 do (or
//! in words of its own); node code that returns `str(e)` then gave other
//! outputs in the sandbox than on CPython 3.11. Every error a `vm.new_*_error`
//! call makes passes through [`cpython_text`], which rewrites the texts
//! that differ, keyed by the error's type (a constant at each call site).
//! Inserted into `rustpython-vm` by `host/artifacts/rustpython_patch.rs`.

use rustpython_common::wtf8::Wtf8Buf;

/// `msg` of an error made by `vm.new_<kind>()`, in CPython 3.11's words.
/// (Opaque, as the `impl Into<Wtf8Buf>` it stands in for in the maker's
/// body: its one `into()` is then the one meant.)
#[inline(always)]
pub(crate) fn cpython_text(kind: &str, msg: impl Into<Wtf8Buf>) -> impl Into<Wtf8Buf> {
    let msg = msg.into();
    match kind {
        "unbound_local_error" | "type_error" | "value_error" | "attribute_error" => rewrite(kind, msg),
        _ => msg,
    }
}

#[inline(never)]
fn rewrite(kind: &str, msg: Wtf8Buf) -> Wtf8Buf {
    let Ok(text) = core::str::from_utf8(msg.as_bytes()) else {
        return msg;
    };
    match rewritten(kind, text) {
        Some(new) => Wtf8Buf::from_string(new),
        None => msg,
    }
}

fn rewritten(kind: &str, text: &str) -> Option<String> {
    match kind {
        "unbound_local_error" => {
            let name = text.strip_prefix("local variable '")?.strip_suffix("' referenced before assignment")?;
            Some(format!("cannot access local variable '{name}' where it is not associated with a value"))
        }
        "attribute_error" => {
            Some(text.strip_suffix(" and no __dict__ for setting new attributes")?.to_owned())
        }
        "type_error" => {
            if let Some(other) = text.strip_prefix("Cannot add list and ") {
                return Some(format!("can only concatenate list (not \"{other}\") to list"));
            }
            if let Some(rest) = text.strip_prefix("can only concatenate tuple (not '") {
                let other = rest.strip_suffix("') to tuple")?;
                return Some(format!("can only concatenate tuple (not \"{other}\") to tuple"));
            }
            abstract_class(text)
        }
        "value_error" => {
            for func in ["max", "min"] {
                if text.strip_prefix(func).and_then(|t| t.strip_prefix("() iterable argument is empty")) == Some("") {
                    return Some(format!("{func}() arg is an empty sequence"));
                }
            }
            if MATH_DOMAIN.iter().any(|start| text.starts_with(start)) {
                return Some("math domain error".to_owned());
            }
            if let Some(field) = date_time_field(text) {
                return Some(field);
            }
            let rest = text.strip_prefix("too many values to unpack (expected ")?;
            let (expected, _got) = rest.strip_suffix(')')?.split_once(", got ")?;
            Some(format!("too many values to unpack (expected {expected})"))
        }
        _ => None,
    }
}

/// How `math` refuses an argument outside a function's domain, where
/// CPython 3.11 says `math domain error` for every one.
const MATH_DOMAIN: [&str; 6] = [
    "expected a positive input",
    "expected a nonnegative input",
    "expected a number in range from ",
    "expected a number between ",
    "expected a noninteger or positive integer",
    "expected a finite input",
];

/// A date or time field out of range, as CPython 3.11's `datetime` words
/// it: `year 0 is out of range`, `month must be in 1..12`, `day is out of
/// range for month`, `hour must be in 0..23` (3.14 adds `, not 25`).
fn date_time_field(text: &str) -> Option<String> {
    if text.starts_with("day ") && text.contains(" must be in range 1..") {
        return Some("day is out of range for month".to_owned());
    }
    let (rule, value) = text.rsplit_once(", not ")?;
    value.parse::<i64>().ok()?;
    if rule.starts_with("year must be in ") {
        return Some(format!("year {value} is out of range"));
    }
    let field = rule.split(' ').next()?;
    matches!(field, "month" | "hour" | "minute" | "second" | "microsecond" | "fold").then(|| rule.to_owned())
}

/// `class S without an implementation for abstract methods 'a', 'b'` as
/// `Can't instantiate abstract class S with abstract methods a, b` (sorted,
/// as CPython 3.11 lists them).
fn abstract_class(text: &str) -> Option<String> {
    let rest = text.strip_prefix("class ")?;
    let (class, rest) = rest.split_once(" without an implementation for abstract ")?;
    let (noun, methods) = rest.split_once(' ')?;
    let methods = methods.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut names: Vec<&str> = methods.split("', '").collect();
    names.sort_unstable();
    Some(format!("Can't instantiate abstract class {class} with abstract {noun} {}", names.join(", ")))
}
