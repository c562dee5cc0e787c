//! nodehost: `str.format` keeps the template it parsed last (one per
//! thread), so a node that formats every item with one template parses it
//! once. The parse depends on the template's text alone, which is compared
//! in full before the kept parse is used again; a template that does not
//! parse raises as before and is not kept. (Parsing "Result: {}" was about
//! a third of the call `template.format(x)` in the sandbox: perf,
//! wasmtime's perf map, the corpus chain's Format node.)
//!
//! A template whose fields are all plain positional ones (`{}` or `{0}`:
//! no attribute, index, conversion or format spec) is also kept as a
//! [`Plan`]: literal text and argument numbers. Formatting by the plan
//! writes an exact `int` in 64 bits as its digits and an exact `str` as it
//! is, straight into an output sized up front, and formats any other
//! argument as the general path does (`format(arg, "")`). The general path
//! parses each field's name and empty spec again, makes a `str` object of
//! the int's digits and another of the empty spec, and grows its output as
//! it goes: about a fifth of the Format node's thread, most of it in the
//! allocator. Anything the plan does not cover (too few arguments, mixed
//! numbering) takes the general path, which raises as before.

use core::cell::RefCell;

use num_traits::ToPrimitive;
use rustpython_common::format::{FieldName, FieldType, FormatPart, FormatString, FromTemplate};
use rustpython_common::wtf8::{Wtf8, Wtf8Buf};

use crate::builtins::{PyInt, PyStr};
use crate::convert::ToPyException;
use crate::function::FuncArgs;
use crate::{PyResult, VirtualMachine};

/// Templates longer than this are parsed each time, not kept (and get no
/// plan).
const MAX_KEPT: usize = 1024;

/// Parts of a template the output is sized for up front.
const RESERVED_FIELDS: usize = 16;

/// A kept template: its text, its parse, and its plan when it has one.
struct Kept {
    text: Wtf8Buf,
    parsed: FormatString,
    plan: Option<Plan>,
}

/// A template of literal text and plain positional fields.
struct Plan {
    parts: Vec<Piece>,
    /// The literal text's length, what the output holds at least.
    literal_len: usize,
    /// How many positional arguments the fields take (one past the
    /// highest number).
    arguments: usize,
}

enum Piece {
    Literal(Wtf8Buf),
    /// The positional argument of this number, formatted with an empty spec.
    Argument(usize),
}

impl Plan {
    /// The plan of `parsed`, if all its fields are plain positional ones
    /// numbered one way (all automatic or all explicit).
    fn of(parsed: &FormatString) -> Option<Plan> {
        let (mut automatic, mut explicit) = (0usize, false);
        let mut parts = Vec::with_capacity(parsed.format_parts.len());
        let mut literal_len = 0;
        for part in &parsed.format_parts {
            match part {
                FormatPart::Literal(text) => {
                    literal_len += text.len();
                    parts.push(Piece::Literal(text.clone()));
                }
                FormatPart::Field { field_name, conversion_spec: None, format_spec } if format_spec.is_empty() => {
                    let name = FieldName::parse(field_name).ok()?;
                    if !name.parts.is_empty() {
                        return None;
                    }
                    let index = match name.field_type {
                        FieldType::Auto if !explicit => {
                            automatic += 1;
                            automatic - 1
                        }
                        FieldType::Index(i) if automatic == 0 => {
                            explicit = true;
                            i
                        }
                        _ => return None,
                    };
                    parts.push(Piece::Argument(index));
                }
                FormatPart::Field { .. } => return None,
            }
        }
        let arguments = parts.iter().map(|p| if let Piece::Argument(i) = p { i + 1 } else { 0 }).max().unwrap_or(0);
        Some(Plan { parts, literal_len, arguments })
    }

    /// The formatted text, or `None` (nothing done) when the arguments are
    /// fewer than the fields take.
    fn format(&self, args: &FuncArgs, vm: &VirtualMachine) -> Option<PyResult<Wtf8Buf>> {
        if args.args.len() < self.arguments {
            return None;
        }
        // Room for the literal text and a number's digits for each of the
        // first parts only: a template of many fields given empty strings
        // stays small.
        let mut out = Wtf8Buf::with_capacity(self.literal_len + 20 * self.parts.len().min(RESERVED_FIELDS));
        for piece in &self.parts {
            match piece {
                Piece::Literal(text) => out.push_wtf8(text),
                Piece::Argument(i) => {
                    let arg = &args.args[*i];
                    if let Some(s) = arg.downcast_ref_if_exact::<PyStr>(vm) {
                        out.push_wtf8(s.as_wtf8());
                    } else if let Some(n) = arg.downcast_ref_if_exact::<PyInt>(vm).and_then(|n| n.as_bigint().to_i64()) {
                        push_decimal(n, &mut out);
                    } else {
                        match vm.format(arg, vm.ctx.empty_str.to_owned()) {
                            Ok(s) => out.push_wtf8(s.as_wtf8()),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                }
            }
        }
        Some(Ok(out))
    }
}

/// `n` in decimal, as `str(n)` writes it (and `%d`, with no flags, width
/// or precision: `nodehost_cformat_cache`). Digits below 2**32 are made in
/// 32-bit arithmetic: wasm32 has no 64-bit multiply-high, so dividing a
/// `u64` by ten is a longer sequence there.
pub(crate) fn push_decimal(n: i64, out: &mut Wtf8Buf) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    while rest > u64::from(u32::MAX) {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let mut rest = rest as u32;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    // SAFETY: ASCII digits and a sign.
    out.push_str(unsafe { core::str::from_utf8_unchecked(&digits[at..]) });
}

std::thread_local! {
    static LAST: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// `template.format(*args, **kwargs)`. The kept parse is taken out while
/// the arguments are formatted (their `__format__` may call `str.format`
/// in turn), and put back after.
pub(crate) fn format(template: &Wtf8, args: &FuncArgs, vm: &VirtualMachine) -> PyResult<Wtf8Buf> {
    let kept = LAST.with(|last| last.borrow_mut().take());
    let kept = match kept {
        Some(kept) if *kept.text == *template => kept,
        _ => {
            let parsed = FormatString::from_str(template).map_err(|e| e.to_pyexception(vm))?;
            let plan = if template.len() <= MAX_KEPT { Plan::of(&parsed) } else { None };
            Kept { text: template.to_owned(), parsed, plan }
        }
    };
    let result = match kept.plan.as_ref().and_then(|plan| plan.format(args, vm)) {
        Some(result) => result,
        None => crate::format::format(&kept.parsed, args, vm),
    };
    if kept.text.len() <= MAX_KEPT {
        LAST.with(|last| *last.borrow_mut() = Some(kept));
    }
    result
}
