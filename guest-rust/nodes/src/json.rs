//! `json`: renders each input as one line of compact JSON.

use nodehost_sdk::{Node, NodeError, ParamInfo, Params, Value};
use serde_json::{Map as JsonMap, Number, Value as Json};

/// Renders each input as a string of compact JSON (one line): maps keep
/// their order; `fields` picks and orders the entries of a map (a missing
/// one is `null`, and with `drop_null` left out); `decimals` rounds floats.
/// Bytes, audio and arrays have no JSON form and are refused.
pub struct JsonLine {
    fields: Option<Vec<String>>,
    drop_null: bool,
    decimals: Option<i32>,
}

impl Node for JsonLine {
    const NAME: &'static str = "json";
    const DESCRIPTION: &'static str = "Renders each input as one line of compact JSON.";

    fn params() -> Vec<ParamInfo> {
        vec![
            ParamInfo::optional("fields", Value::Null, "the map entries to keep, in this order (default: all)"),
            ParamInfo::optional("drop_null", false, "leave out entries whose value is null"),
            ParamInfo::optional("decimals", Value::Null, "round floats to this many decimals"),
        ]
    }

    fn new(params: &Params) -> Result<Self, NodeError> {
        params.allow_only(&["fields", "drop_null", "decimals"])?;
        let fields = match params.get("fields") {
            None | Some(Value::Null) => None,
            Some(Value::List(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| NodeError::invalid_params("fields must be a list of strings"))?,
            ),
            Some(other) => return Err(NodeError::invalid_params(format!("fields must be a list of strings, got {}", other.type_name()))),
        };
        let decimals = match params.i64("decimals")? {
            None => None,
            Some(d @ 0..=15) => Some(d as i32),
            Some(d) => return Err(NodeError::invalid_params(format!("decimals must be 0..=15, got {d}"))),
        };
        Ok(JsonLine { fields, drop_null: params.bool("drop_null")?.unwrap_or(false), decimals })
    }

    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let json = match (&self.fields, &input) {
            (Some(fields), Value::Map(map)) => {
                let mut object = JsonMap::new();
                for name in fields {
                    let value = map.get(name).map_or(Ok(Json::Null), |v| self.to_json(v))?;
                    if !(self.drop_null && value.is_null()) {
                        object.insert(name.clone(), value);
                    }
                }
                Json::Object(object)
            }
            _ => self.to_json(&input)?,
        };
        out.push(Value::Str(json.to_string()));
        Ok(())
    }
}

impl JsonLine {
    fn to_json(&self, value: &Value) -> Result<Json, NodeError> {
        Ok(match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::BigInt(i) => Json::Number(
                i.to_string().parse::<Number>().map_err(|e| NodeError::unsupported_value(format!("int {i}: {e}")))?,
            ),
            Value::Float(f) => {
                let f = match self.decimals {
                    Some(d) => (f * 10f64.powi(d)).round() / 10f64.powi(d),
                    None => *f,
                };
                Number::from_f64(f)
                    .map(Json::Number)
                    .ok_or_else(|| NodeError::unsupported_value(format!("{f} has no JSON form")))?
            }
            Value::Str(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(items.iter().map(|v| self.to_json(v)).collect::<Result<_, _>>()?),
            Value::Map(map) => {
                let mut object = JsonMap::new();
                for (key, v) in map.iter() {
                    let v = self.to_json(v)?;
                    if !(self.drop_null && v.is_null()) {
                        object.insert(key.to_owned(), v);
                    }
                }
                Json::Object(object)
            }
            other => return Err(NodeError::expected("a value with a JSON form (not bytes, audio or an array)", other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodehost_sdk::Map;

    fn node(params: &[(&str, Value)]) -> Result<JsonLine, NodeError> {
        let map: Map = params.iter().map(|(k, v)| (*k, v.clone())).collect();
        JsonLine::new(&Params::from_value(Value::Map(map))?)
    }

    fn line(node: &mut JsonLine, input: Value) -> Result<String, NodeError> {
        let mut out = Vec::new();
        node.process(input, &mut out)?;
        Ok(out.pop().unwrap().as_str().unwrap().to_owned())
    }

    fn record() -> Value {
        let mut m = Map::new();
        m.insert("end", 2.7149);
        m.insert("action", "on");
        m.insert("room", Value::Null);
        m.insert("start", 1.3);
        Value::Map(m)
    }

    #[test]
    fn keeps_order_picks_fields_and_rounds() {
        assert_eq!(line(&mut node(&[]).unwrap(), record()).unwrap(), r#"{"end":2.7149,"action":"on","room":null,"start":1.3}"#);
        let fields = Value::List(vec!["action".into(), "room".into(), "device".into(), "start".into(), "end".into()]);
        let mut picked = node(&[("fields", fields.clone()), ("decimals", Value::Int(2))]).unwrap();
        assert_eq!(line(&mut picked, record()).unwrap(), r#"{"action":"on","room":null,"device":null,"start":1.3,"end":2.71}"#);
        let mut dropped = node(&[("fields", fields), ("drop_null", Value::Bool(true))]).unwrap();
        assert_eq!(line(&mut dropped, record()).unwrap(), r#"{"action":"on","start":1.3,"end":2.7149}"#);
        assert_eq!(line(&mut node(&[]).unwrap(), Value::Str("a\"b".into())).unwrap(), r#""a\"b""#);
    }

    #[test]
    fn refuses_what_has_no_json_form_and_bad_params() {
        let mut n = node(&[]).unwrap();
        assert!(line(&mut n, Value::Bytes(vec![1])).is_err());
        assert!(line(&mut n, Value::Float(f64::NAN)).is_err());
        assert!(node(&[("fields", Value::Int(1))]).is_err());
        assert!(node(&[("decimals", Value::Int(99))]).is_err());
        assert!(node(&[("other", Value::Int(1))]).is_err());
    }
}
