//! Added to RustPython by nodehost's build (`host/artifacts/rustpython_patch.rs`):
//! Linux's errno numbers for Python code on WASI.
//!
//! Why: WASI numbers its errors in its own order (ENOENT is 44, EACCES 2), so
//! in the sandbox `errno.ENOENT` was 44, a missing file read
//! `[Errno 44] No such file or directory (os error 44): 'x.csv'`, and
//! `OSError(2, "...")`, which Linux code means as ENOENT, came out a
//! `PermissionError`. Python code sees Linux's numbers now, as on CPython on
//! Linux: the `errno` module's constants and `errorcode`, `OSError.errno` of
//! every error the system gives, the subclass `OSError(n, ...)` picks, and
//! `os.strerror(n)`. RustPython's own code keeps comparing the C library's
//! (WASI) numbers; the translation is where a number crosses to Python.

/// Linux's number for each WASI errno, 1 to 75 (`LINUX[n - 1]` for WASI `n`).
const LINUX: [i32; 75] = [
    7, // 1: E2BIG
    13, // 2: EACCES
    98, // 3: EADDRINUSE
    99, // 4: EADDRNOTAVAIL
    97, // 5: EAFNOSUPPORT
    11, // 6: EAGAIN
    114, // 7: EALREADY
    9, // 8: EBADF
    74, // 9: EBADMSG
    16, // 10: EBUSY
    125, // 11: ECANCELED
    10, // 12: ECHILD
    103, // 13: ECONNABORTED
    111, // 14: ECONNREFUSED
    104, // 15: ECONNRESET
    35, // 16: EDEADLK
    89, // 17: EDESTADDRREQ
    33, // 18: EDOM
    122, // 19: EDQUOT
    17, // 20: EEXIST
    14, // 21: EFAULT
    27, // 22: EFBIG
    113, // 23: EHOSTUNREACH
    43, // 24: EIDRM
    84, // 25: EILSEQ
    115, // 26: EINPROGRESS
    4, // 27: EINTR
    22, // 28: EINVAL
    5, // 29: EIO
    106, // 30: EISCONN
    21, // 31: EISDIR
    40, // 32: ELOOP
    24, // 33: EMFILE
    31, // 34: EMLINK
    90, // 35: EMSGSIZE
    72, // 36: EMULTIHOP
    36, // 37: ENAMETOOLONG
    100, // 38: ENETDOWN
    102, // 39: ENETRESET
    101, // 40: ENETUNREACH
    23, // 41: ENFILE
    105, // 42: ENOBUFS
    19, // 43: ENODEV
    2, // 44: ENOENT
    8, // 45: ENOEXEC
    37, // 46: ENOLCK
    67, // 47: ENOLINK
    12, // 48: ENOMEM
    42, // 49: ENOMSG
    92, // 50: ENOPROTOOPT
    28, // 51: ENOSPC
    38, // 52: ENOSYS
    107, // 53: ENOTCONN
    20, // 54: ENOTDIR
    39, // 55: ENOTEMPTY
    131, // 56: ENOTRECOVERABLE
    88, // 57: ENOTSOCK
    95, // 58: ENOTSUP
    25, // 59: ENOTTY
    6, // 60: ENXIO
    75, // 61: EOVERFLOW
    130, // 62: EOWNERDEAD
    1, // 63: EPERM
    32, // 64: EPIPE
    71, // 65: EPROTO
    93, // 66: EPROTONOSUPPORT
    91, // 67: EPROTOTYPE
    34, // 68: ERANGE
    30, // 69: EROFS
    29, // 70: ESPIPE
    3, // 71: ESRCH
    116, // 72: ESTALE
    110, // 73: ETIMEDOUT
    26, // 74: ETXTBSY
    18, // 75: EXDEV
];

/// WASI's ENOTCAPABLE (a path or resource the sandbox does not grant),
/// which Linux does not have: Python sees EACCES, a `PermissionError`.
const WASI_NOTCAPABLE: i32 = 76;
const LINUX_EACCES: i32 = 13;

/// The Linux number of a WASI errno (0, and numbers WASI does not define,
/// are kept).
pub(crate) fn to_linux(wasi: i32) -> i32 {
    match wasi {
        1..=75 => LINUX[wasi as usize - 1],
        WASI_NOTCAPABLE => LINUX_EACCES,
        other => other,
    }
}

/// The WASI errno of a Linux number, or 0 when WASI has no such error.
pub(crate) fn to_wasi(linux: i32) -> i32 {
    LINUX.iter().position(|&n| n == linux).map_or(0, |at| at as i32 + 1)
}

/// The C library's number for an errno Python code gives (on WASI its
/// WASI number; elsewhere the same).
pub(crate) fn to_c(errno: i32) -> i32 {
    if cfg!(target_os = "wasi") { to_wasi(errno) } else { errno }
}

/// A system error's message without the " (os error N)" Rust's standard
/// library adds (CPython's message is the C library's text alone).
pub(crate) fn without_os_error_suffix(mut message: String) -> String {
    if let Some(at) = message.rfind(" (os error ")
        && message.ends_with(')')
    {
        message.truncate(at);
    }
    message
}
