//! nodehost: `str.format` keeps the template it parsed last (one per
//! thread), so a node that formats every item with one template parses it
//! once. The parse depends on the template's text alone, which is compared
//! in full before the kept parse is used again; a template that does not
//! parse raises as before and is not kept. (Parsing "Result: {}" was about
//! a third of the call `template.format(x)` in the sandbox: perf,
//! wasmtime's perf map, the corpus chain's Format node.)

use core::cell::RefCell;

use rustpython_common::format::{FormatString, FromTemplate};
use rustpython_common::wtf8::{Wtf8, Wtf8Buf};

use crate::convert::ToPyException;
use crate::function::FuncArgs;
use crate::{PyResult, VirtualMachine};

/// Templates longer than this are parsed each time, not kept.
const MAX_KEPT: usize = 1024;

std::thread_local! {
    static LAST: RefCell<Option<(Wtf8Buf, FormatString)>> = const { RefCell::new(None) };
}

/// `template.format(*args, **kwargs)`. The kept parse is taken out while
/// the arguments are formatted (their `__format__` may call `str.format`
/// in turn), and put back after.
pub(crate) fn format(template: &Wtf8, args: &FuncArgs, vm: &VirtualMachine) -> PyResult<Wtf8Buf> {
    let kept = LAST.with(|last| last.borrow_mut().take());
    let (text, parsed) = match kept {
        Some((text, parsed)) if *text == *template => (text, parsed),
        _ => {
            let parsed = FormatString::from_str(template).map_err(|e| e.to_pyexception(vm))?;
            (template.to_owned(), parsed)
        }
    };
    let result = crate::format::format(&parsed, args, vm);
    if text.len() <= MAX_KEPT {
        LAST.with(|last| *last.borrow_mut() = Some((text, parsed)));
    }
    result
}
