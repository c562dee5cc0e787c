//! The edits that give Python code Linux's errno numbers on WASI
//! (`guest-python/component/rustpython-patch/nodehost_errno.rs` says why):
//! each is a translation where a number crosses between RustPython's code,
//! which keeps the C library's (WASI) numbers, and Python's.

/// The module's name in `src/`, and where it is under the component.
pub const MODULE: (&str, &str) = ("nodehost_errno.rs", "rustpython-patch/nodehost_errno.rs");

/// At each place, a `let` shadowing the number (or message) with its
/// translation, compiled on WASI only.
pub const EDITS: &[(&str, &str, &str)] = &[
    ("src/lib.rs", "pub mod warn;\n", "mod nodehost_errno;\n"),
    // The `errno` module's constants and `errorcode`.
    (
        "src/stdlib/errno.rs",
        "        for (name, code) in super::ERROR_CODES {\n",
        "            #[cfg(target_os = \"wasi\")]\n            let code = &crate::nodehost_errno::to_linux(*code);\n",
    ),
    // An error of the system's, as an `OSError`: its number and message.
    (
        "src/exceptions.rs",
        "        let errno = self.posix_errno();\n",
        "        #[cfg(target_os = \"wasi\")]\n        let errno = crate::nodehost_errno::to_linux(errno);\n",
    ),
    (
        "src/exceptions.rs",
        "        #[cfg(not(any(windows, unix)))]\n        let msg = self.to_string();\n",
        "        #[cfg(target_os = \"wasi\")]\n        let msg = crate::nodehost_errno::without_os_error_suffix(msg);\n",
    ),
    // RustPython's own errors with a C library number.
    (
        "src/vm/vm_new.rs",
        "    pub fn new_errno_error(&self, errno: i32, msg: impl ToPyObject) -> PyRef<PyOSError> {\n",
        "        #[cfg(target_os = \"wasi\")]\n        let errno = crate::nodehost_errno::to_linux(errno);\n",
    ),
    // The subclass for a (Linux) number: `OSError(2, "...")` is a `FileNotFoundError`.
    (
        "src/exceptions.rs",
        "pub(crate) fn errno_to_exc_type(errno: i32, vm: &VirtualMachine) -> Option<&'static Py<PyType>> {\n",
        "    #[cfg(target_os = \"wasi\")]\n    let errno = match crate::nodehost_errno::to_wasi(errno) {\n        0 => return None,\n        wasi => wasi,\n    };\n",
    ),
    // `_io` retries a call whose `OSError.errno` is EINTR: read back as WASI's number.
    (
        "src/stdlib/_io.rs",
        "                    && let Ok(errno_val) = i32::try_from_object(vm, errno_attr)\n",
        "                    && let errno_val = crate::nodehost_errno::to_c(errno_val)\n",
    ),
    // `os.strerror(n)` of a Linux number.
    (
        "src/stdlib/os.rs",
        "    fn strerror(code: i32) -> String {\n",
        "        #[cfg(target_os = \"wasi\")]\n        let code = match crate::nodehost_errno::to_wasi(code) {\n            0 if code != 0 => return format!(\"Unknown error {code}\"),\n            wasi => wasi,\n        };\n",
    ),
];
