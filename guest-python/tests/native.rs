//! The Python runtime linked natively: loading modules, creating nodes,
//! converting values and reporting errors, without a sandbox around it.

use nodehost_python::PythonRuntime;
use nodehost_sdk::{DynNode, ErrorKind, Map, Value, python};

const SOURCE: &str = r#"
import logging
log = logging.getLogger("calc")

class Add:
    """Adds a number."""
    def __init__(self, operand=1):
        self.operand = operand
    def process(self, x):
        log.info("adding %s", self.operand)
        return x + self.operand

class Gen:
    def process(self, n):
        for i in range(n):
            yield {"i": i}

class Bad:
    def process(self, x):
        return {1, 2}

class Longs:
    def process(self, code):
        import array
        from nodehost import Array
        return Array(array.array(code, [-5, 7]))
"#;

#[test]
fn load_create_process() {
    let rt = PythonRuntime::new().unwrap();
    let types = rt.load_module("calc.py", SOURCE).unwrap();
    let names: Vec<_> = types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Add", "Gen", "Bad", "Longs"]);
    assert_eq!(types[0].description, "Adds a number.");
    assert!(types[1].streaming);
    let mut params = Map::new();
    params.insert("operand", 5);
    let mut add = rt.create("Add", Value::Map(params)).unwrap();
    let mut out = Vec::new();
    add.process(Value::Int(2), &mut out).unwrap();
    assert_eq!(out, [Value::Int(7)]);

    let mut generator = rt.create("Gen", Value::Null).unwrap();
    out.clear();
    generator.process(Value::Int(3), &mut out).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[2].get("i"), Some(&Value::Int(2)));

    let mut bad = rt.create("Bad", Value::Null).unwrap();
    let e = bad.process(Value::Int(1), &mut out).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedValue, "{e:?}");
    assert_eq!(
        e.message,
        format!("Bad.process() returned a value the pipeline cannot carry: type 'set' (supported: {})", python::SUPPORTED)
    );

    let e = add.process(Value::Str("x".into()), &mut out).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Raised);
    assert_eq!(e.exception_type.as_deref(), Some("TypeError"));
    let tb = e.traceback.unwrap();
    assert!(tb.contains("calc.py") && tb.contains("in process"), "{tb}");

    let e = rt.create("Nope", Value::Null).err().unwrap();
    assert_eq!(e.kind, ErrorKind::UnknownType, "{e:?}");
    let mut p = Map::new();
    p.insert("wrong", 1);
    let e = rt.create("Add", Value::Map(p)).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidParams, "{e:?}");
}

/// Every integer typecode is read at its own item size: 'l' (8 bytes here,
/// 4 on wasm32) gives the same values as 'q' and 'i'.
#[test]
fn integer_arrays_become_i64_whatever_their_item_size() {
    let rt = PythonRuntime::new().unwrap();
    rt.load_module("calc.py", SOURCE).unwrap();
    let mut node = rt.create("Longs", Value::Null).unwrap();
    for code in ["b", "h", "i", "l", "q"] {
        let mut out = Vec::new();
        node.process(Value::from(code), &mut out).unwrap();
        let Value::Array(a) = &out[0] else { panic!("{code}: {out:?}") };
        assert_eq!(a.data, nodehost_sdk::ArrayData::I64(vec![-5, 7]), "{code}");
    }
}
