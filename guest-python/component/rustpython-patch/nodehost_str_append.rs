//! nodehost: a `str` that nothing else holds grows in its own buffer.
//!
//! RustPython 0.6.0 runs `s += t` (and `s = s + t`) on a local that alone
//! holds its string in place, as CPython does, but built the result in a new
//! buffer of exactly the joint length: the old text was copied every time,
//! and the kind and length of the whole result were worked out again. A loop
//! that builds a string piece by piece was quadratic: 200,000 appends of two
//! characters took 7 s in the sandbox against CPython's 15 ms.
//!
//! [`StrData::nodehost_append`] keeps the buffer and asks the allocator to
//! extend it where it is (`realloc`, which the guest's allocator does in
//! place when the memory after the buffer is free, as it is while a loop
//! appends); only `t` is read, and the kind and the length in code points
//! are updated from `t`'s. The result is the text the published code built.
//!
//! A child module of `str`, for `StrData`'s private fields; written into
//! `rustpython-common`'s `src/` by the build (`host/artifacts`).

use core::sync::atomic::Ordering::Relaxed;

use super::{DeduceStrKind, Radium, StrData, StrKind, StrLen, Wtf8IndexSlot};
use crate::wtf8::{Wtf8, Wtf8Buf};

impl StrData {
    /// Append `other` to this string's own buffer. The caller holds the
    /// only reference to the string (so nobody sees it change), and resets
    /// whatever it caches about the text (the `str`'s hash).
    #[doc(hidden)]
    pub fn nodehost_append(&mut self, other: &Wtf8) {
        if other.is_empty() {
            return;
        }
        let other_kind = other.str_kind();
        let chars = self.len.0.load(Relaxed);
        let chars = match (chars, other_kind) {
            (usize::MAX, _) => usize::MAX,
            (n, StrKind::Ascii) => n + other.len(),
            (n, _) => n + other.code_points().count(),
        };
        let mut buffer = Wtf8Buf::from(core::mem::take(&mut self.data));
        // Exactly what is added: a larger request could not be met where
        // the buffer is, and the whole text would move.
        buffer.reserve_exact(other.len());
        buffer.push_wtf8(other);
        self.data = buffer.into_box();
        self.kind = self.kind | other_kind;
        self.len = if chars == usize::MAX { StrLen::uncomputed() } else { chars.into() };
        // The code-point index described the old text.
        self.index = Wtf8IndexSlot::new();
    }
}
