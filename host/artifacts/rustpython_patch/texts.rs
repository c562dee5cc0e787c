//! Edits that make RustPython write what CPython writes.
//!
//! - A `RecursionError` of Python code reads `maximum recursion depth
//!   exceeded`: RustPython's ended in a space (its message takes a "where"
//!   suffix, empty for Python frames).
//! - `repr()` of a float array writes each element as Python's float repr
//!   (`array('d', [1e+300, 1.5e-07])`, and `'f'` elements widened to
//!   double, as CPython does): RustPython wrote Rust's decimal expansion
//!   (`1000…000` for 1e300, `0.00000015`).

/// `rustpython-vm`: (file, anchor, text inserted after the anchor)
pub const VM_EDITS: &[(&str, &str, &str)] = &[
    (
        "src/vm/mod.rs",
        "    fn check_recursive_call(&self, _where: &str) -> PyResult<()> {\n",
        "        if _where.is_empty() && self.recursion_depth.get() >= self.recursion_limit.get() {\n            return Err(self.new_recursion_error(\"maximum recursion depth exceeded\"));\n        }\n",
    ),
    (
        "src/vm/mod.rs",
        "        if counted_too_deep || self.check_c_stack_overflow() {\n",
        "            if _where.is_empty() {\n                return Err(self.new_recursion_error(\"maximum recursion depth exceeded\"));\n            }\n",
    ),
];

/// `rustpython-stdlib`: (file, anchor, text inserted after the anchor)
pub const STDLIB_EDITS: &[(&str, &str, &str)] = &[(
    "src/array.rs",
    "                fn repr(&self, class_name: &str, _vm: &VirtualMachine) -> PyResult<String> {\n                    // we don't need ReprGuard here\n",
    FLOAT_ARRAY_REPR,
)];

const FLOAT_ARRAY_REPR: &str = "                    let float_repr = |x: f64| crate::vm::literal::float::to_string(x);
                    match self {
                        ArrayContentType::Float(v) if !v.is_empty() => {
                            let items = v.iter().map(|x| float_repr(f64::from(*x)));
                            return Ok(format!(\"{class_name}('f', [{}])\", items.format(\", \")));
                        }
                        ArrayContentType::Double(v) if !v.is_empty() => {
                            let items = v.iter().map(|x| float_repr(*x));
                            return Ok(format!(\"{class_name}('d', [{}])\", items.format(\", \")));
                        }
                        _ => {}
                    }
";
