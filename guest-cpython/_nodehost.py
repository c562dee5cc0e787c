"""The native half of the ``nodehost`` helper module, for the CPython
component: ``nodehost.py`` imports ``_nodehost`` and calls ``log`` for every
log record and every line printed; ``tick`` is the ``sys.monitoring``
callback that lets the host interrupt running code. Both reach the host
through the WIT ``host`` imports."""

import sys

from wit_world.imports import host

_LEVELS = (
    host.LogLevel.TRACE,
    host.LogLevel.DEBUG,
    host.LogLevel.INFO,
    host.LogLevel.WARN,
    host.LogLevel.ERROR,
)


def _lossy(text):
    """``text`` as valid UTF-8 (a lone surrogate cannot cross the boundary)."""
    if not isinstance(text, str):
        raise TypeError("expected str, not %s" % type(text).__name__)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def log(level, target, message):
    """log(level, target, message): emit a record on the host's log.
    Levels: 0 trace, 1 debug, 2 info, 3 warn, 4 error."""
    level = int(level)
    host.log(_LEVELS[0 if level < 0 else 4 if level > 4 else level], _lossy(target), _lossy(message))


# Ask the host only every this many events: a host call costs more than the
# event itself.
POLL_EVERY = 32

# Files whose code is the runtime's own, not a node's: their events are
# switched off at the first tick, so the runtime is never interrupted inside
# its bookkeeping (and costs nothing while monitored).
own_files = {__file__}

_events = 0

# While the runtime formats a node's error (with the standard library's
# traceback module, which is not its own file), no event interrupts it: the
# host may still be asking, and the error would lose its traceback.
suspended = False


def tick(code, *_):
    """The sys.monitoring callback (PY_START and JUMP events): raises
    nodehost.DeadlineExceeded in the running code once the host asks."""
    global _events
    if code.co_filename in own_files:
        return sys.monitoring.DISABLE
    if suspended:
        return None
    _events += 1
    if _events % POLL_EVERY or not host.interrupt_requested():
        return None
    raise sys.modules["nodehost"].DeadlineExceeded(
        "the call ran past its soft deadline and was interrupted here")


def _read_tzdata():
    """The pinned tzdata wheel the build put beside this module, read at
    build time so that the snapshot holds it (the component has no files
    at run time); b"" when the build had none."""
    import os
    try:
        with open(os.path.join(os.path.dirname(__file__), "_nodehost_tzdata.whl"), "rb") as f:
            return f.read()
    except OSError:
        return b""


_TZDATA = _read_tzdata()


def tzdata_wheel():
    """The embedded ``tzdata`` wheel, which ``nodehost`` serves as the
    ``tzdata`` package for ``zoneinfo`` (as the RustPython guest does)."""
    return _TZDATA
