//! Values as JSON, for JSON-lines input and output.
//!
//! JSON's own types map one to one (integers that fit in i64 become ints,
//! other numbers floats). What JSON lacks is written as a one-key object:
//! `{"$bytes": "<base64>"}`, `{"$float": "nan" | "inf" | "-inf"}`,
//! `{"$audio": {"sample_rate": .., "channels": .., "samples": [..]}}` and
//! `{"$array": {"dtype": "f32" | "f64" | "i64", "shape": [..], "data": [..]}}`.
//! Reading accepts the same forms, so output can be fed back as input.

use nodehost_sdk::{ArrayData, AudioFrame, Map, NumArray, Value};
use serde_json::{Number, Value as Json, json};

/// A value as JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Float(f) => float_to_json(*f),
        Value::Str(s) => Json::String(s.clone()),
        Value::Bytes(b) => json!({ "$bytes": base64_encode(b) }),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => Json::Object(map.iter().map(|(k, v)| (k.to_owned(), to_json(v))).collect()),
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

fn float_to_json(f: f64) -> Json {
    match Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None if f.is_nan() => json!({ "$float": "nan" }),
        None if f > 0.0 => json!({ "$float": "inf" }),
        None => json!({ "$float": "-inf" }),
    }
}

/// A value from JSON.
pub fn from_json(json: Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().ok_or_else(|| format!("number {n} is out of range"))?),
        },
        Json::String(s) => Value::Str(s),
        Json::Array(items) => Value::List(items.into_iter().map(from_json).collect::<Result<_, _>>()?),
        Json::Object(mut obj) => {
            if obj.len() == 1 {
                let key = obj.keys().next().expect("one key").clone();
                if let Some(special) = key.strip_prefix('$') {
                    let inner = obj.remove(&key).expect("present");
                    return from_special(special, inner);
                }
            }
            let mut map = Map::with_capacity(obj.len());
            for (k, v) in obj {
                map.push(k, from_json(v)?);
            }
            Value::Map(map)
        }
    })
}

fn from_special(kind: &str, inner: Json) -> Result<Value, String> {
    match kind {
        "bytes" => {
            let text = inner.as_str().ok_or("$bytes must be a base64 string")?;
            Ok(Value::Bytes(base64_decode(text)?))
        }
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
                other => return Err(format!("$array dtype '{other}' (f32, f64 or i64)")),
            };
            let array = NumArray { data, shape };
            array.check()?;
            Ok(Value::Array(array))
        }
        other => Err(format!("unknown special form '${other}' ($bytes, $float, $audio, $array)")),
    }
}

fn field_u64(obj: &Json, field: &str, form: &str) -> Result<u64, String> {
    obj.get(field).and_then(Json::as_u64).ok_or_else(|| format!("{form} needs an integer {field}"))
}

fn numbers(obj: &Json, field: &str, form: &str) -> Result<Vec<f64>, String> {
    obj.get(field)
        .and_then(Json::as_array)
        .ok_or_else(|| format!("{form} needs a {field} list"))?
        .iter()
        .map(|x| match x {
            Json::Number(n) => n.as_f64().ok_or_else(|| format!("{form} {field}: bad number")),
            Json::Object(_) => match from_json(x.clone())? {
                Value::Float(f) => Ok(f),
                _ => Err(format!("{form} {field} must hold numbers")),
            },
            _ => Err(format!("{form} {field} must hold numbers")),
        })
        .collect()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard base64 (padding optional, whitespace ignored).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let v = BASE64.iter().position(|&b| b == c).ok_or_else(|| format!("'{}' is not a base64 character", c as char))?;
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for n in 0..40 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
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
    fn map_order_is_kept() {
        let v = from_json(serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap()).unwrap();
        let keys: Vec<_> = v.as_map().unwrap().iter().map(|(k, _)| k.to_owned()).collect();
        assert_eq!(keys, ["b", "a"]);
    }
}
