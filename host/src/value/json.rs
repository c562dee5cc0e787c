//! Values as JSON, for JSON-lines input and output.
//!
//! JSON's own types map one to one: a number written as an integer (no
//! `.`, no exponent) becomes an exact int of any size ([`Value::Int`], or
//! [`Value::BigInt`] beyond 64 bits), other numbers floats; and ints are
//! written as plain JSON numbers, all their digits. (serde_json's
//! `arbitrary_precision` keeps a number's text until it is read here.)
//! Decimal text converts to and from binary in time quadratic in its
//! length, so an int of more than [`MAX_INT_DIGITS`] digits is refused on
//! input and written as `{"$int": "0x<hex>"}` (`-0x` below zero), which
//! converts in linear time and is read back as well.
//!
//! What JSON lacks is written as a one-key object:
//! `{"$bytes": "<base64>"}`, `{"$float": "nan" | "inf" | "-inf"}`,
//! `{"$audio": {"sample_rate": .., "channels": .., "samples": [..]}}` and
//! `{"$array": {"dtype": "f32" | "f64" | "i64", "shape": [..], "data": [..]}}`.
//! Reading accepts the same forms, so output can be fed back as input.
//!
//! A map of one key that would read as one of those forms (`$bytes`,
//! `$int`, `$float`, `$audio`, `$array`, or `$map` itself) is written inside
//! `{"$map": {...}}`, which reads back as the map it holds, so every value
//! written reads back as itself. A one-key object whose key is some other
//! `$` name (`{"$oid": ...}`, `{"$ref": ...}`) is an ordinary map, in and
//! out.
//!
//! `$bytes` is standard base64 (RFC 4648 section 4: `A-Z a-z 0-9 + /`,
//! `=` padding) written and read by the `base64` crate, and read
//! strictly: the padding must be there and canonical, nothing may follow
//! it, the unused bits of the last symbol must be zero, and whitespace is
//! refused (a JSON string has no need to wrap lines, and accepting it
//! would give one value two spellings). Anything else is an error that
//! says what is wrong and where.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use nodehost_sdk::{ArrayData, AudioFrame, BigInt, Map, NumArray, Value};
use serde_json::{Number, Value as Json, json};

/// Most decimal digits of an int in JSON text (as CPython limits `int(str)`,
/// for the same reason: decimal conversion is quadratic). A 100,000-digit
/// int converts in tens of milliseconds; larger ones are written, and may
/// be read, as `{"$int": "0x<hex>"}`.
pub const MAX_INT_DIGITS: usize = 100_000;

/// Widest magnitude, in bits, that may have no more than [`MAX_INT_DIGITS`]
/// decimal digits (10**100000 has 332,193 bits); wider ones are not even
/// tried.
const MAX_DECIMAL_BITS: u64 = 332_193;

/// Why JSON could not be read as a value.
#[derive(Debug, thiserror::Error)]
pub enum FromJsonError {
    /// The text is not JSON.
    #[error("not JSON")]
    Syntax(#[from] serde_json::Error),
    /// A `$bytes` string that is not strict standard base64.
    #[error("$bytes is not valid base64: {reason}")]
    Base64 {
        /// What is wrong, and where, in words.
        reason: String,
        /// The decoder's error.
        #[source]
        source: base64::DecodeError,
    },
    /// Any other malformed input, e.g. `$audio needs a samples list`.
    #[error("{0}")]
    Invalid(String),
}

impl From<String> for FromJsonError {
    fn from(message: String) -> Self {
        FromJsonError::Invalid(message)
    }
}

impl From<&str> for FromJsonError {
    fn from(message: &str) -> Self {
        FromJsonError::Invalid(message.to_owned())
    }
}

/// The `$` names reading gives a meaning to (see the [module docs](self)).
const SPECIAL_FORMS: [&str; 6] = ["bytes", "int", "float", "audio", "array", "map"];

/// Whether `map` would read as a special form if written as it is: one key,
/// a `$` and a form's name.
fn looks_special(map: &Map) -> bool {
    map.len() == 1
        && map.iter().next().is_some_and(|(key, _)| key.strip_prefix('$').is_some_and(|name| SPECIAL_FORMS.contains(&name)))
}

/// A value as JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::BigInt(i) => big_int_to_json(i),
        Value::Float(f) => float_to_json(*f),
        Value::Str(s) => Json::String(s.clone()),
        Value::Bytes(b) => json!({ "$bytes": BASE64.encode(b) }),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => {
            let object = Json::Object(map.iter().map(|(k, v)| (k.to_owned(), to_json(v))).collect());
            if looks_special(map) { json!({ "$map": object }) } else { object }
        }
        Value::Audio(a) => json!({ "$audio": {
            "sample_rate": a.sample_rate,
            "channels": a.channels,
            "samples": a.samples.iter().map(|&s| float_to_json(s as f64)).collect::<Vec<_>>(),
        }}),
        Value::Array(a) => json!({ "$array": {
            "dtype": a.data.dtype(),
            "shape": a.shape,
            "data": match &a.data {
                ArrayData::F32(v) => v.iter().map(|&x| float_to_json(x as f64)).collect::<Vec<_>>(),
                ArrayData::F64(v) => v.iter().map(|&x| float_to_json(x)).collect(),
                ArrayData::I64(v) => v.iter().map(|&x| Json::from(x)).collect(),
            },
        }}),
    }
}

/// Append `value` as compact JSON to `out`: the same text as
/// [`to_json`]`(value).to_string()`, written without building a
/// `serde_json::Value` (only an int beyond 64 bits goes through one).
pub fn write_json(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_str(out, s),
        Value::List(items) => write_seq(out, items, write_json),
        Value::Map(map) => {
            let escaped = looks_special(map);
            if escaped {
                out.extend_from_slice(b"{\"$map\":");
            }
            out.push(b'{');
            for (k, (key, item)) in map.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_json(out, item);
            }
            out.push(b'}');
            if escaped {
                out.push(b'}');
            }
        }
        Value::Bytes(b) => {
            // Base64 needs no escaping.
            out.extend_from_slice(b"{\"$bytes\":\"");
            out.extend_from_slice(BASE64.encode(b).as_bytes());
            out.extend_from_slice(b"\"}");
        }
        Value::Audio(a) => {
            out.extend_from_slice(b"{\"$audio\":{\"sample_rate\":");
            out.extend_from_slice(itoa::Buffer::new().format(a.sample_rate).as_bytes());
            out.extend_from_slice(b",\"channels\":");
            out.extend_from_slice(itoa::Buffer::new().format(a.channels).as_bytes());
            out.extend_from_slice(b",\"samples\":");
            write_seq(out, &a.samples, |out, &s| write_float(out, f64::from(s)));
            out.extend_from_slice(b"}}");
        }
        Value::Array(a) => {
            out.extend_from_slice(b"{\"$array\":{\"dtype\":");
            write_str(out, a.data.dtype());
            out.extend_from_slice(b",\"shape\":");
            write_seq(out, &a.shape, |out, &d| out.extend_from_slice(itoa::Buffer::new().format(d).as_bytes()));
            out.extend_from_slice(b",\"data\":");
            match &a.data {
                ArrayData::F32(v) => write_seq(out, v, |out, &x| write_float(out, f64::from(x))),
                ArrayData::F64(v) => write_seq(out, v, |out, &x| write_float(out, x)),
                ArrayData::I64(v) => write_seq(out, v, |out, &x| out.extend_from_slice(itoa::Buffer::new().format(x).as_bytes())),
            }
            out.extend_from_slice(b"}}");
        }
        Value::BigInt(_) => {
            // Writing JSON into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &to_json(value));
        }
    }
}

/// A float as [`float_to_json`] gives it: finite ones as serde_json writes
/// an `f64` (the same digits its `Number` keeps), formatted straight into
/// `out` (through `Number`, each costs a string and a parse of it).
fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &f);
    } else {
        out.extend_from_slice(if f.is_nan() {
            b"{\"$float\":\"nan\"}"
        } else if f > 0.0 {
            b"{\"$float\":\"inf\"}"
        } else {
            b"{\"$float\":\"-inf\"}"
        });
    }
}

/// `items` as a JSON array, each written by `write`.
fn write_seq<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// A string as JSON, escaped as serde_json escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most strings need no escaping (serde_json escapes only quotes,
    // backslashes and control characters): copied whole between quotes,
    // at a third of serde_json's instructions for a short string.
    // (A fold rather than `any`: with no early exit the check compiles to
    // straight-line, vectorizable code.)
    let escapes = s.bytes().fold(false, |seen, b| seen | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !escapes {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing JSON into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// An int as a plain JSON number, or as `$int` hex when it has more than
/// [`MAX_INT_DIGITS`] digits: every int written in decimal reads back.
fn big_int_to_json(i: &BigInt) -> Json {
    let hex = || json!({ "$int": format!("{i:#x}") });
    if i.bits() > MAX_DECIMAL_BITS {
        return hex();
    }
    let text = i.to_string();
    if text.trim_start_matches('-').len() > MAX_INT_DIGITS {
        return hex();
    }
    // Decimal digits with an optional sign always parse as a JSON number.
    text.parse::<Number>().map_or_else(|_| hex(), Json::Number)
}

/// A JSON number as an int (exact, any size) or a float.
fn number_from_json(n: &Number) -> Result<Value, FromJsonError> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Int(i));
    }
    let text = n.as_str();
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        let digits = text.trim_start_matches('-').len();
        if digits > MAX_INT_DIGITS {
            return Err(format!(
                "integer of {digits} digits is longer than {MAX_INT_DIGITS} (write it as {{\"$int\": \"0x<hex>\"}})"
            )
            .into());
        }
        let i: BigInt = text.parse().map_err(|e| format!("integer {text:.40}: {e}"))?;
        return Ok(Value::from(i));
    }
    n.as_f64().map(Value::Float).ok_or_else(|| format!("number {text:.40} is out of range").into())
}

/// The `$int` form: `0x` and hex digits, `-0x` below zero.
fn hex_int(text: &str) -> Result<Value, FromJsonError> {
    const FORM: &str = "$int must be \"0x\" or \"-0x\" and hex digits";
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits = rest.strip_prefix("0x").ok_or(FORM)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FORM.into());
    }
    let magnitude = BigInt::parse_bytes(digits.as_bytes(), 16).ok_or(FORM)?;
    Ok(Value::from(if negative { -magnitude } else { magnitude }))
}

fn float_to_json(f: f64) -> Json {
    match Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None if f.is_nan() => json!({ "$float": "nan" }),
        None if f > 0.0 => json!({ "$float": "inf" }),
        None => json!({ "$float": "-inf" }),
    }
}

/// A value from JSON text (one line of JSON lines).
///
/// # Errors
/// When the text is not JSON, or not a value (see [`from_json`]).
pub fn from_json_str(text: &str) -> Result<Value, FromJsonError> {
    from_json(serde_json::from_str(text)?)
}

/// A value from JSON.
///
/// # Errors
/// When a number is out of range, or a `$` form is unknown or malformed
/// (for `$bytes`, see the [module docs](self) for what base64 is accepted).
pub fn from_json(json: Json) -> Result<Value, FromJsonError> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => number_from_json(&n)?,
        Json::String(s) => Value::Str(s),
        Json::Array(items) => Value::List(items.into_iter().map(from_json).collect::<Result<_, _>>()?),
        Json::Object(mut obj) => {
            if obj.len() == 1 {
                let key = obj.keys().next().expect("one key").clone();
                if let Some(special) = key.strip_prefix('$').filter(|name| SPECIAL_FORMS.contains(name)) {
                    let inner = obj.remove(&key).expect("present");
                    return from_special(special, inner);
                }
            }
            map_from_json(obj)?
        }
    })
}

/// A JSON object's members as a map, each value read by [`from_json`].
fn map_from_json(obj: serde_json::Map<String, Json>) -> Result<Value, FromJsonError> {
    let mut map = Map::with_capacity(obj.len());
    for (k, v) in obj {
        map.push(k, from_json(v)?);
    }
    Ok(Value::Map(map))
}

fn from_special(kind: &str, inner: Json) -> Result<Value, FromJsonError> {
    match kind {
        "bytes" => {
            let text = inner.as_str().ok_or("$bytes must be a base64 string")?;
            Ok(Value::Bytes(decode_base64(text)?))
        }
        "int" => hex_int(inner.as_str().ok_or("$int must be a string of hex digits")?),
        "float" => match inner.as_str() {
            Some("nan") => Ok(Value::Float(f64::NAN)),
            Some("inf") => Ok(Value::Float(f64::INFINITY)),
            Some("-inf") => Ok(Value::Float(f64::NEG_INFINITY)),
            _ => Err("$float must be \"nan\", \"inf\" or \"-inf\"".into()),
        },
        "audio" => {
            let sample_rate = field_u64(&inner, "sample_rate", "$audio")?;
            let channels = field_u64(&inner, "channels", "$audio")?;
            let samples = numbers(&inner, "samples", "$audio")?;
            let frame = AudioFrame {
                samples: samples.into_iter().map(|x| x as f32).collect(),
                sample_rate: u32::try_from(sample_rate).map_err(|_| "$audio sample_rate is too large")?,
                channels: u16::try_from(channels).map_err(|_| "$audio channels is too large")?,
            };
            frame.check()?;
            Ok(Value::Audio(frame))
        }
        "array" => {
            let dtype = inner.get("dtype").and_then(Json::as_str).ok_or("$array needs a dtype: f32, f64 or i64")?;
            let shape = inner
                .get("shape")
                .and_then(Json::as_array)
                .ok_or("$array needs a shape list")?
                .iter()
                .map(|d| d.as_u64().and_then(|d| u32::try_from(d).ok()).ok_or("$array shape must hold small ints"))
                .collect::<Result<Vec<u32>, _>>()?;
            let data = match dtype {
                "f32" => ArrayData::F32(numbers(&inner, "data", "$array")?.into_iter().map(|x| x as f32).collect()),
                "f64" => ArrayData::F64(numbers(&inner, "data", "$array")?),
                "i64" => ArrayData::I64(
                    inner
                        .get("data")
                        .and_then(Json::as_array)
                        .ok_or("$array needs a data list")?
                        .iter()
                        .map(|x| x.as_i64().ok_or("$array i64 data must hold ints"))
                        .collect::<Result<_, _>>()?,
                ),
                other => {
                    return Err(FromJsonError::Invalid(format!("$array dtype '{other}' (f32, f64 or i64)")));
                }
            };
            let array = NumArray { data, shape };
            array.check()?;
            Ok(Value::Array(array))
        }
        "map" => match inner {
            Json::Object(obj) => map_from_json(obj),
            _ => Err("$map must hold an object (a map whose one key is a $ form's name)".into()),
        },
        other => unreachable!("'${other}' is not in SPECIAL_FORMS"),
    }
}

fn field_u64(obj: &Json, field: &str, form: &str) -> Result<u64, FromJsonError> {
    obj.get(field).and_then(Json::as_u64).ok_or_else(|| format!("{form} needs an integer {field}").into())
}

fn numbers(obj: &Json, field: &str, form: &str) -> Result<Vec<f64>, FromJsonError> {
    obj.get(field)
        .and_then(Json::as_array)
        .ok_or_else(|| format!("{form} needs a {field} list"))?
        .iter()
        .map(|x| match x {
            Json::Number(n) => n.as_f64().ok_or_else(|| format!("{form} {field}: bad number").into()),
            Json::Object(_) => match from_json(x.clone())? {
                Value::Float(f) => Ok(f),
                _ => Err(format!("{form} {field} must hold numbers").into()),
            },
            _ => Err(format!("{form} {field} must hold numbers").into()),
        })
        .collect()
}

/// `text` as strict standard base64 (see the [module docs](self)), with an
/// error that says in words what is wrong (offsets count bytes of `text`).
fn decode_base64(text: &str) -> Result<Vec<u8>, FromJsonError> {
    BASE64.decode(text).map_err(|source| {
        let symbol = |byte: u8| match byte {
            b' ' | b'\t' | b'\r' | b'\n' => format!("whitespace ({:?})", byte as char),
            0x21..=0x7e => format!("'{}'", byte as char),
            _ => format!("byte 0x{byte:02x}"),
        };
        let reason = match source {
            base64::DecodeError::InvalidByte(at, b'=') => {
                format!("'=' at offset {at} is padding where none can be (it may only fill the last one or two places of the last group of four)")
            }
            base64::DecodeError::InvalidByte(at, byte) => {
                format!("{} at offset {at} is not a base64 symbol (A-Z, a-z, 0-9, +, /)", symbol(byte))
            }
            base64::DecodeError::InvalidLength(symbols) => {
                format!("{symbols} symbols leave a last group of one, which cannot encode a byte (truncated?)")
            }
            base64::DecodeError::InvalidLastSymbol(at, byte) => format!(
                "the last symbol, {} at offset {at}, has bits set that encode nothing (corrupt or truncated?)",
                symbol(byte)
            ),
            base64::DecodeError::InvalidPadding => {
                "missing or wrong '=' padding (the text must be a multiple of 4 symbols long, '=' filling the last group)"
                    .to_owned()
            }
        };
        FromJsonError::Base64 { reason, source }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_from(text: &str) -> Result<Vec<u8>, FromJsonError> {
        match from_json(json!({ "$bytes": text }))? {
            Value::Bytes(b) => Ok(b),
            other => panic!("not bytes: {other:?}"),
        }
    }

    fn bytes_error(text: &str) -> String {
        match bytes_from(text) {
            Ok(b) => panic!("{text:?} was accepted as {b:?}"),
            Err(e @ FromJsonError::Base64 { .. }) => e.to_string(),
            Err(e) => panic!("{text:?}: not a base64 error: {e}"),
        }
    }

    #[test]
    fn base64_reads_and_writes_the_rfc_4648_test_vectors() {
        // RFC 4648, section 10.
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(bytes_from(encoded).unwrap(), plain.as_bytes(), "{encoded}");
            assert_eq!(to_json(&Value::Bytes(plain.as_bytes().to_vec())), json!({ "$bytes": encoded }));
        }
        // Every byte value, and the two symbols beyond letters and digits.
        assert_eq!(bytes_from("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(bytes_from("AP8A").unwrap(), [0x00, 0xff, 0x00]);
    }

    #[test]
    fn bad_base64_is_refused_with_what_is_wrong() {
        // A lone symbol (it decoded to nothing before), padded or not.
        assert!(bytes_error("A").contains("1 symbols leave a last group of one"), "{}", bytes_error("A"));
        assert!(bytes_error("A===").contains("'=' at offset 1 is padding where none can be"));
        // Two encodings run together (it decoded to the first before).
        assert!(bytes_error("aGk=aGk=").contains("'=' at offset 3 is padding where none can be"));
        assert!(bytes_error("Zm=9").contains("'=' at offset 2"));
        assert!(bytes_error("====").contains("'=' at offset 0"));
        // Padding missing, short or too long.
        for text in ["Zg", "Zg=", "Zm8", "Zm9v=", "Zm9vYg==="] {
            let e = bytes_error(text);
            assert!(e.contains("padding"), "{text}: {e}");
        }
        // Not in the alphabet: URL-safe symbols, punctuation, non-ASCII.
        assert!(bytes_error("Zm9-").contains("'-' at offset 3 is not a base64 symbol"));
        assert!(bytes_error("Zm9_").contains("'_' at offset 3"));
        assert!(bytes_error("Zm.v").contains("'.' at offset 2"));
        assert!(bytes_error("Zm9\u{e9}").contains("is not a base64 symbol"));
        // Whitespace is refused, not skipped: one value, one spelling.
        assert!(bytes_error("Zm9v\nYmFy").contains("whitespace ('\\n') at offset 4"), "{}", bytes_error("Zm9v\nYmFy"));
        assert!(bytes_error(" Zm9v").contains("whitespace (' ') at offset 0"));
        assert!(bytes_error("Zm9v ").contains("whitespace"));
        // Bits past the last byte must be zero ("Zh==" would also be "f").
        assert!(bytes_error("Zh==").contains("the last symbol, 'h' at offset 1, has bits set"));
        // Not a string at all.
        assert!(matches!(from_json(json!({ "$bytes": 5 })), Err(FromJsonError::Invalid(_))));
    }

    #[test]
    fn bytes_of_every_length_round_trip() {
        for n in 0..40 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(bytes_from(to_json(&Value::Bytes(data.clone()))["$bytes"].as_str().unwrap()).unwrap(), data);
        }
    }

    #[test]
    fn the_base64_error_keeps_its_cause() {
        let e = bytes_from("aGk=aGk=").unwrap_err();
        let source = std::error::Error::source(&e).expect("a cause");
        assert!(source.downcast_ref::<base64::DecodeError>().is_some(), "{source:?}");
    }

    #[test]
    fn special_forms_round_trip() {
        let values = [
            Value::Bytes(vec![0, 255, 10]),
            Value::Float(f64::NAN),
            Value::Float(f64::NEG_INFINITY),
            Value::Audio(AudioFrame { samples: vec![0.5, -0.25], sample_rate: 16000, channels: 2 }),
            Value::Array(NumArray { data: ArrayData::I64(vec![1, 2, 3, 4, 5, 6]), shape: vec![2, 3] }),
            Value::Map([("z", Value::Int(1)), ("a", Value::Float(2.5))].into_iter().collect()),
        ];
        for v in values {
            let back = from_json(to_json(&v)).unwrap();
            match (&v, &back) {
                (Value::Float(a), Value::Float(b)) if a.is_nan() => assert!(b.is_nan()),
                _ => assert_eq!(back, v),
            }
        }
    }

    #[test]
    fn ints_of_any_size_are_exact_json_numbers() {
        let texts = [
            "18446744073709551615",
            "-18446744073709551616",
            "9223372036854775808",
            "-9223372036854775809",
            "265252859812191058636308480000000",
            &format!("1{}", "0".repeat(400)),
            &format!("-{}", "9".repeat(MAX_INT_DIGITS)),
        ];
        for text in texts {
            let v = from_json_str(text).unwrap();
            assert!(matches!(v, Value::BigInt(_)), "{text}: {v:?}");
            assert_eq!(v.to_bigint().unwrap().to_string(), text);
            assert!(serde_json::to_string(&to_json(&v)).unwrap() == text, "{:.40} is not written as it was read", text);
        }
        // Inside lists and maps too, next to ordinary numbers.
        let line = r#"{"a":[1,18446744073709551615,-2.5,-0],"b":{"c":-340282366920938463463374607431768211456}}"#;
        let v = from_json_str(line).unwrap();
        assert_eq!(v.get("a").unwrap().as_list().unwrap()[1], Value::from(u64::MAX));
        assert_eq!(v.get("b").unwrap().get("c").unwrap(), &Value::from(-(BigInt::from(1) << 128u32)));
        assert_eq!(serde_json::to_string(&to_json(&v)).unwrap(), line.replace("-0]", "0]"));
        // Ints that fit stay ints, and floats stay floats.
        assert_eq!(from_json_str("9223372036854775807").unwrap(), Value::Int(i64::MAX));
        assert_eq!(from_json_str("-9223372036854775808").unwrap(), Value::Int(i64::MIN));
        assert_eq!(from_json_str("1e20").unwrap(), Value::Float(1e20));
        assert_eq!(from_json_str("18446744073709551616.0").unwrap(), Value::Float(18446744073709551616.0));
        assert!(from_json_str("1e400").unwrap_err().to_string().contains("out of range"));
    }

    #[test]
    fn ints_too_long_for_decimal_travel_as_hex() {
        let too_long = "7".repeat(MAX_INT_DIGITS + 1);
        let e = from_json_str(&too_long).unwrap_err().to_string();
        assert!(e.contains("integer of 100001 digits is longer than 100000"), "{e}");
        // Written as $int hex, read back the same; small ones normalize.
        let huge: BigInt = -(BigInt::from(1) << 400_000u32) - 1;
        let json = to_json(&Value::from(huge.clone()));
        let hex = json["$int"].as_str().unwrap();
        assert!(hex.starts_with("-0x1000") && hex.ends_with("0001"), "{}", &hex[..10]);
        assert_eq!(from_json(json).unwrap(), Value::from(huge));
        assert_eq!(from_json(json!({ "$int": "0xff" })).unwrap(), Value::Int(255));
        assert_eq!(from_json(json!({ "$int": "0x10000000000000000" })).unwrap(), Value::from(1u128 << 64));
        for bad in [json!({ "$int": "ff" }), json!({ "$int": "0x" }), json!({ "$int": "0xfg" }), json!({ "$int": 5 })] {
            assert!(from_json(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn written_arrays_and_frames_are_what_to_json_gives() {
        use nodehost_sdk::NumArray;
        let odd = [0.0, -0.0, 0.1, -1.5e-40, 3.4e38, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e-320];
        let values = [
            Value::Audio(AudioFrame { samples: odd.iter().map(|&x| x as f32).collect(), sample_rate: 48_000, channels: 3 }),
            Value::Audio(AudioFrame { samples: vec![], sample_rate: 0, channels: 0 }),
            Value::Array(NumArray { data: ArrayData::F64(odd.to_vec()), shape: vec![3, 3] }),
            Value::Array(NumArray { data: ArrayData::F32(odd.iter().map(|&x| x as f32).collect()), shape: vec![9] }),
            Value::Array(NumArray { data: ArrayData::I64(vec![i64::MIN, -1, 0, i64::MAX]), shape: vec![2, 1, 2] }),
            Value::Array(NumArray { data: ArrayData::I64(vec![]), shape: vec![] }),
            Value::Bytes((0..=255).collect()),
        ];
        for v in values {
            let mut out = Vec::new();
            write_json(&mut out, &v);
            assert_eq!(String::from_utf8(out).unwrap(), to_json(&v).to_string(), "{v:?}");
        }
    }

    #[test]
    fn written_json_is_what_to_json_gives() {
        for f in [0.0, -0.0, 1.5, 1e300, -2.5e-300, 1e16, 123456789.0, f64::NAN, f64::INFINITY, f64::MIN_POSITIVE] {
            let mut out = Vec::new();
            write_json(&mut out, &Value::Float(f));
            assert_eq!(String::from_utf8(out).unwrap(), to_json(&Value::Float(f)).to_string(), "{f}");
        }
    }

    proptest::proptest! {
        #[test]
        fn written_json_is_to_json_for_any_value(value in crate::value::arbitrary::value()) {
            let mut out = Vec::new();
            write_json(&mut out, &value);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), to_json(&value).to_string());
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = (0u8..=0x7f).map(|b| format!("a{}z", b as char)).collect();
        cases.extend(["", "plain", "é ü \u{2028} \u{7f} 😀", "Result: 12", "tab\there", "q\"b\\"].map(String::from));
        for s in cases {
            let mut out = Vec::new();
            write_str(&mut out, &s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn a_map_that_looks_like_a_special_form_reads_back_as_a_map() {
        let one = |key: &str, value: Value| Value::Map([(key, value)].into_iter().collect());
        let maps = [
            one("$bytes", Value::from("AAE=")),
            one("$float", Value::from("nan")),
            one("$int", Value::from("0x10")),
            one("$audio", Value::Null),
            one("$array", Value::Int(1)),
            one("$map", one("$int", Value::from("0x10"))),
            one("$map", Value::Int(3)),
        ];
        for v in maps {
            let mut out = Vec::new();
            write_json(&mut out, &v);
            let text = String::from_utf8(out).unwrap();
            assert!(text.starts_with("{\"$map\":{"), "{text}");
            assert_eq!(from_json_str(&text).unwrap(), v, "{text}");
        }
        // Other `$` names and maps of more keys are written as they are.
        for v in [one("$oid", Value::from("5f1d")), one("bytes", Value::Int(1)), Value::Map([("$int", Value::Int(1)), ("b", Value::Null)].into_iter().collect())] {
            assert_eq!(to_json(&v), serde_json::to_value(v.as_map().unwrap().iter().map(|(k, v)| (k.to_owned(), to_json(v))).collect::<serde_json::Map<_, _>>()).unwrap());
            assert_eq!(from_json(to_json(&v)).unwrap(), v);
        }
        assert_eq!(from_json_str(r##"{"$ref": "#/a"}"##).unwrap(), one("$ref", Value::from("#/a")));
        assert!(from_json_str(r#"{"$map": 5}"#).unwrap_err().to_string().contains("$map must hold an object"));
    }

    proptest::proptest! {
        /// Whatever is written reads back as itself (maps whose keys look
        /// like `$` forms included: the strategy's keys do).
        #[test]
        fn every_value_written_reads_back(value in crate::value::arbitrary::value()) {
            let mut out = Vec::new();
            write_json(&mut out, &value);
            let text = String::from_utf8(out).unwrap();
            proptest::prop_assert_eq!(from_json_str(&text).unwrap(), value, "{}", text);
        }
    }

    #[test]
    fn map_order_is_kept() {
        let v = from_json(serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap()).unwrap();
        let keys: Vec<_> = v.as_map().unwrap().iter().map(|(k, _)| k.to_owned()).collect();
        assert_eq!(keys, ["b", "a"]);
    }
}
