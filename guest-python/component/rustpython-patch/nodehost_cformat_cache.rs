//! nodehost: `text % values` keeps the format it parsed last (one per
//! thread), as `str.format` keeps its template (`nodehost_format_cache`).
//!
//! RustPython 0.6.0 parsed the format on every `%` (a list of parts, each
//! literal its own buffer), looked `__getitem__` up on the values' class
//! even for a tuple, and formatted each field into a buffer of its own:
//! `"%d:%s" % (i, i)` took 2.0 µs in the sandbox, five times
//! `"{}:{}".format(i, i)` there and ten times CPython. Here the parse of a
//! format of up to [`MAX_KEPT`] bytes is kept with its text (compared in
//! full before it is used again); a tuple is known not to be a mapping
//! without a lookup; and a field with no flags, width or precision writes
//! an exact `int` in 64 bits (`%d`, `%i`, `%u`) as its digits and an exact
//! `str` (`%s`) as it is, straight into the output. Every other field goes
//! through the published field formatter. Fields take their values in
//! CPython's order, keyed and plain ones mixed as CPython allows them
//! (0.6.0 refused any mix as `format requires a mapping`).
//!
//! A child module of `cformat`, for its private helpers; written into
//! `rustpython-vm`'s `src/` by the build (`host/artifacts`).

use core::cell::RefCell;

use num_traits::ToPrimitive;

use super::{get_star_arg, spec_format_string};
use crate::builtins::{PyInt, PyStr, tuple::PyTuple};
use crate::common::cformat::{
    CConversionFlags, CFormatConversion, CFormatPart, CFormatPrecision, CFormatQuantity, CFormatSpec, CFormatSpecKeyed,
    CFormatType, CFormatWtf8, CNumberType,
};
use crate::common::wtf8::{Wtf8, Wtf8Buf};
use crate::nodehost_format_cache::push_decimal;
use crate::{AsObject, PyObject, PyObjectRef, PyResult, VirtualMachine};

/// Formats longer than this are parsed each time, not kept.
const MAX_KEPT: usize = 1024;

/// Fields the output is sized for up front.
const RESERVED_FIELDS: usize = 16;

/// A parsed format, with its number of fields and length of literal text.
struct Kept {
    text: Wtf8Buf,
    parsed: CFormatWtf8,
    specifiers: usize,
    literal_len: usize,
}

std::thread_local! {
    static LAST: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// `format_string % values_obj`, as the published `cformat_string`. The
/// kept parse is taken out while the values are formatted (their
/// `__str__` may use `%` in turn), and put back after.
pub(super) fn cformat_string(vm: &VirtualMachine, format_string: &Wtf8, values_obj: &PyObject) -> PyResult<Wtf8Buf> {
    let kept = LAST.with(|last| last.borrow_mut().take());
    let kept = match kept {
        Some(kept) if *kept.text == *format_string => kept,
        _ => {
            let parsed = CFormatWtf8::parse_from_wtf8(format_string).map_err(|err| vm.new_value_error(err.to_string()))?;
            let (mut specifiers, mut literal_len) = (0, 0);
            for (_, part) in parsed.iter() {
                match part {
                    CFormatPart::Literal(text) => literal_len += text.len(),
                    CFormatPart::Spec(_) => specifiers += 1,
                }
            }
            Kept { text: format_string.to_owned(), parsed, specifiers, literal_len }
        }
    };
    let result = format(vm, &kept, values_obj);
    if kept.text.len() <= MAX_KEPT {
        LAST.with(|last| *last.borrow_mut() = Some(kept));
    }
    result
}

/// The values a field takes its value (and `*` width and precision) from:
/// a tuple's items in turn, or one object once (the values when they are
/// not a tuple, or what the field's key named in the mapping).
enum Args<'a> {
    Items(&'a [PyObjectRef], usize),
    One(PyObjectRef, bool),
}

impl Args<'_> {
    fn next(&mut self) -> Option<PyObjectRef> {
        match self {
            Args::Items(items, at) => {
                let item = items.get(*at)?.clone();
                *at += 1;
                Some(item)
            }
            Args::One(value, taken) => (!std::mem::replace(taken, true)).then(|| value.clone()),
        }
    }

    fn is_used_up(&self) -> bool {
        match self {
            Args::Items(items, at) => *at >= items.len(),
            Args::One(_, taken) => *taken,
        }
    }
}

/// CPython's order: each field takes the next value, a keyed field first
/// makes what its key names in the mapping the values (so `"%s %(a)s" % d`
/// formats `d` and then `d["a"]`, and `"%(a)s %s" % d` has too few
/// arguments); values left over are an error unless they are a mapping.
/// (0.6.0 refused formats that mixed keyed and plain fields.)
fn format(vm: &VirtualMachine, kept: &Kept, values_obj: &PyObject) -> PyResult<Wtf8Buf> {
    let tuple = values_obj.downcast_ref::<PyTuple>();
    let mapping = (tuple.is_none()
        && !values_obj.fast_isinstance(vm.ctx.types.str_type)
        && values_obj.class().has_attr(identifier!(vm, __getitem__)))
    .then_some(values_obj);
    let mut args = match tuple {
        Some(tuple) => Args::Items(tuple.as_slice(), 0),
        None => Args::One(values_obj.to_owned(), false),
    };
    let mut result = Wtf8Buf::with_capacity(kept.literal_len + 20 * kept.specifiers.min(RESERVED_FIELDS));
    for (_, part) in kept.parsed.iter() {
        let CFormatSpecKeyed { mapping_key, spec } = match part {
            CFormatPart::Literal(literal) => {
                result.push_wtf8(literal);
                continue;
            }
            CFormatPart::Spec(keyed) => keyed,
        };
        if let Some(key) = mapping_key {
            let Some(mapping) = mapping else {
                return Err(vm.new_type_error("format requires a mapping"));
            };
            args = Args::One(mapping.get_item(key, vm)?, false);
        }
        let mut spec = *spec;
        if let Some(CFormatQuantity::FromValuesTuple) = spec.min_field_width {
            let width = get_star_arg(vm, args.next().as_deref())?;
            if width < 0 {
                spec.flags.insert(CConversionFlags::LEFT_ADJUST);
            }
            spec.min_field_width = Some(CFormatQuantity::Amount(width.unsigned_abs() as usize));
        }
        if let Some(CFormatPrecision::Quantity(CFormatQuantity::FromValuesTuple)) = spec.precision {
            let precision = get_star_arg(vm, args.next().as_deref())?.max(0) as usize;
            spec.precision = Some(CFormatPrecision::Quantity(CFormatQuantity::Amount(precision)));
        }
        let Some(value) = args.next() else {
            return Err(vm.new_type_error("not enough arguments for format string"));
        };
        push_field(vm, &spec, &value, &mut result)?;
    }
    if mapping.is_none() && !args.is_used_up() {
        return Err(vm.new_type_error("not all arguments converted during string formatting"));
    }
    Ok(result)
}

/// One field: a plain `%d`/`%i`/`%u` of an exact int in 64 bits or `%s` of
/// an exact str written directly, anything else as the published code
/// formats it.
fn push_field(vm: &VirtualMachine, spec: &CFormatSpec, value: &PyObject, out: &mut Wtf8Buf) -> PyResult<()> {
    if spec.flags.is_empty() && spec.min_field_width.is_none() && spec.precision.is_none() {
        match spec.format_type {
            CFormatType::Number(CNumberType::DecimalD | CNumberType::DecimalI | CNumberType::DecimalU) => {
                if let Some(n) = value.downcast_ref_if_exact::<PyInt>(vm).and_then(|n| n.as_bigint().to_i64()) {
                    push_decimal(n, out);
                    return Ok(());
                }
            }
            CFormatType::String(CFormatConversion::Str) => {
                if let Some(s) = value.downcast_ref_if_exact::<PyStr>(vm) {
                    out.push_wtf8(s.as_wtf8());
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    out.push_wtf8(&spec_format_string(vm, spec, value.to_owned())?);
    Ok(())
}
