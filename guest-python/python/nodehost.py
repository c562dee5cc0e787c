"""Helpers for Python pipeline nodes.

Every Python runtime of the node host (sandboxed RustPython, native
RustPython, CPython) imports this same module before loading a node's file.
Nodes do not have to import it: any class with a ``process`` method is a
node. It offers:

- ``AudioFrame`` and ``Array``: the typed buffers media nodes receive and
  may return;
- ``Node``: an optional base class keeping ``self.params`` and ``self.logger``;
- logging and ``print`` routed to the host's log, tagged with the node's id.

The underscore functions are the runtime's side of the contract.
"""

import array as _array
import logging
import sys

import _nodehost

__all__ = ["AudioFrame", "Array", "Node", "DeadlineExceeded"]

# Host log levels, as the host's WIT `log-level` numbers them.
_TRACE, _DEBUG, _INFO, _WARN, _ERROR = range(5)


def _host_level(levelno):
    if levelno >= logging.ERROR:
        return _ERROR
    if levelno >= logging.WARNING:
        return _WARN
    if levelno >= logging.INFO:
        return _INFO
    if levelno >= logging.DEBUG:
        return _DEBUG
    return _TRACE


class AudioFrame:
    """Interleaved audio samples: ``samples`` is an ``array('f')`` (a list
    of floats is accepted on the way out), with ``sample_rate`` in Hz and
    ``channels``."""

    __slots__ = ("samples", "sample_rate", "channels")

    def __init__(self, samples, sample_rate=48000, channels=1):
        self.samples = samples
        self.sample_rate = sample_rate
        self.channels = channels

    def __len__(self):
        return len(self.samples) // self.channels

    @property
    def duration(self):
        """Length in seconds."""
        return len(self) / self.sample_rate

    def __eq__(self, other):
        return (
            isinstance(other, AudioFrame)
            and list(self.samples) == list(other.samples)
            and self.sample_rate == other.sample_rate
            and self.channels == other.channels
        )

    def __repr__(self):
        return "AudioFrame(%d samples, %d Hz, %d ch)" % (
            len(self.samples), self.sample_rate, self.channels)


# What the data of each ``array`` typecode crosses the boundary as: the
# typecode table of the conversion rules (guest-rust/sdk/src/python.rs).
# Integer typecodes of any item size become i64.
_DTYPES = dict.fromkeys("bhilqBHILQ", "i64")
_DTYPES.update(f="f32", d="f64")


class Array:
    """A numeric n-dimensional array: ``data`` is a flat ``array`` of type
    ``'f'`` (f32), ``'d'`` (f64) or ``'q'`` (i64), row-major, and ``shape``
    a tuple of dimensions. Other integer typecodes are read at their item
    size and become i64; a list or tuple of numbers becomes i64 when it
    holds only ints, and f64 otherwise."""

    __slots__ = ("data", "shape")

    def __init__(self, data, shape=None):
        self.data = data
        self.shape = tuple(shape) if shape is not None else (len(data),)

    @property
    def dtype(self):
        """``'f32'``, ``'f64'`` or ``'i64'``: what ``data`` becomes when the
        array leaves the node (None when it is neither an ``array`` of a
        numeric typecode nor a list or tuple)."""
        data = self.data
        if isinstance(data, _array.array):
            return _DTYPES.get(data.typecode)
        if not isinstance(data, (list, tuple)):
            return None
        if data and all(isinstance(x, int) and not isinstance(x, bool) for x in data):
            return "i64"
        return "f64"

    def __eq__(self, other):
        return (
            isinstance(other, Array)
            and list(self.data) == list(other.data)
            and self.shape == other.shape
        )

    def __repr__(self):
        return "Array(%s, shape=%r)" % (self.dtype, self.shape)


class Node:
    """Optional base class: keeps the creation parameters in ``self.params``
    and gives a ``self.logger`` named after the class."""

    def __init__(self, **params):
        self.params = params

    @property
    def logger(self):
        return logging.getLogger(type(self).__name__)

    def process(self, data):
        return data


class DeadlineExceeded(TimeoutError):
    """Raised inside a node's running code when its call passes the soft
    deadline of its sandbox policy. Catching it buys nothing: the host stops
    the call at the hard deadline anyway."""


# The sys.monitoring tool id the host uses to interrupt running code.
_TOOL = 5


def _set_interruptible(on, tick):
    """Install (or remove) the hook that lets the host interrupt running
    code: `tick` runs at every backward jump (each loop iteration) and every
    function start, and raises DeadlineExceeded once the host asks."""
    mon = sys.monitoring
    events = mon.events.JUMP | mon.events.PY_START
    if on:
        if mon.get_tool(_TOOL) is None:
            mon.use_tool_id(_TOOL, "nodehost")
        mon.register_callback(_TOOL, mon.events.JUMP, tick)
        mon.register_callback(_TOOL, mon.events.PY_START, tick)
        mon.set_events(_TOOL, events)
    elif mon.get_tool(_TOOL) is not None:
        mon.set_events(_TOOL, 0)
        mon.free_tool_id(_TOOL)


class _HostLogHandler(logging.Handler):
    def emit(self, record):
        try:
            _nodehost.log(_host_level(record.levelno), record.name, self.format(record))
        except Exception:
            self.handleError(record)


class _HostStream:
    """A text stream (for sys.stdout / sys.stderr) that sends each line to
    the host's log."""

    def __init__(self, target, level):
        self._target = target
        self._level = level
        self._buffer = ""

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._buffer += text
        if "\n" in self._buffer:
            *lines, self._buffer = self._buffer.split("\n")
            for line in lines:
                _nodehost.log(self._level, self._target, line)
        elif len(self._buffer) > 8192:
            self.flush()
        return len(text)

    def flush(self):
        if self._buffer:
            _nodehost.log(self._level, self._target, self._buffer)
            self._buffer = ""

    def isatty(self):
        return False

    def writable(self):
        return True


def _install_host_io():
    root = logging.getLogger()
    root.handlers[:] = [_HostLogHandler()]
    root.setLevel(logging.INFO)
    sys.stdout = _HostStream("stdout", _INFO)
    sys.stderr = _HostStream("stderr", _WARN)


def _flush_io():
    for stream in (sys.stdout, sys.stderr):
        flush = getattr(stream, "flush", None)
        if flush is not None:
            flush()


_CO_GENERATOR = 0x20


def _node_classes(module):
    """The node types a module defines: its own classes with a callable
    ``process``, in definition order."""
    return [
        obj for obj in vars(module).values()
        if isinstance(obj, type)
        and obj.__module__ == module.__name__
        and callable(getattr(obj, "process", None))
    ]


def _first_line(doc):
    for line in (doc or "").strip().splitlines():
        return line.strip()
    return ""


def _describe(cls):
    """(name, description, [(param, required, default), ...], streaming)."""
    params = []
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is not None:
        names = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
        defaults = init.__defaults__ or ()
        kwdefaults = init.__kwdefaults__ or {}
        positional = names[:code.co_argcount - 1]
        first_default = len(positional) - len(defaults)
        for i, name in enumerate(names):
            if i < len(positional):
                has_default = i >= first_default
                default = defaults[i - first_default] if has_default else None
            else:
                has_default = name in kwdefaults
                default = kwdefaults.get(name)
            params.append((name, not has_default, default))
    process = getattr(cls, "process")
    process_code = getattr(process, "__code__", None)
    streaming = bool(process_code is not None and process_code.co_flags & _CO_GENERATOR)
    return (cls.__name__, _first_line(cls.__doc__), params, streaming)


def _load(name, source, filename):
    """Run a node module's source as module ``name``; return the module and
    descriptions of its node types."""
    module = type(sys)(name)
    module.__file__ = filename
    # Tracebacks show the node's source lines from here, also where the file
    # itself cannot be read (in the sandbox). No modification time: the
    # entry is never checked against a file.
    import linecache
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    sys.modules[name] = module
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module, [_describe(cls) for cls in _node_classes(module)]


def _reseed():
    """Fresh state for ``random`` from the host's entropy: an instance made
    from a snapshot starts with the snapshot's. (``random.seed()`` with no
    argument is not enough on RustPython 0.6: it draws from the ``rand``
    crate's thread-local generator, whose state the snapshot holds too.)"""
    random = sys.modules.get("random")
    if random is not None:
        import os
        random.seed(int.from_bytes(os.urandom(32), "little"))


class _UnknownNodeType(Exception):
    """No node class of the requested name."""


class _InvalidParams(Exception):
    """The parameters do not fit the node class's ``__init__``."""


def _create(module, class_name, params):
    """Instantiate a node class with keyword parameters and run its optional
    ``initialize()``."""
    classes = _node_classes(module)
    names = ", ".join(c.__name__ for c in classes) or "none"
    if not class_name:
        # No class named: the module's only node class.
        if len(classes) != 1:
            raise _UnknownNodeType("%s defines %d node classes (%s); name one with class = ..." % (
                module.__name__, len(classes), names))
        cls = classes[0]
        class_name = cls.__name__
    else:
        cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and callable(getattr(cls, "process", None))):
        raise _UnknownNodeType("no node class %r in %s (node classes: %s)" % (class_name, module.__name__, names))
    try:
        node = cls(**params)
    except TypeError as e:
        # Raised by the call itself (an unknown or missing keyword), not
        # from inside __init__: the manifest's parameters are wrong.
        if e.__traceback__ is not None and e.__traceback__.tb_next is None:
            raise _InvalidParams("%s: %s" % (class_name, e)) from None
        raise
    initialize = getattr(node, "initialize", None)
    if initialize is not None:
        initialize()
    return node


def _fill_time():
    """RustPython on wasm32 leaves out the time zone attributes of ``time``
    that ``_strptime``, ``email.utils`` and ``logging`` read. The sandbox
    has no time zone database and no TZ: it runs in UTC, as ``localtime``
    there already does."""
    import time
    if not hasattr(time, "tzname"):
        time.tzname = ("UTC", "UTC")
        time.timezone = 0
        time.altzone = 0
        time.daylight = 0


class _FixAfterImport:
    """A meta path finder that runs a fix-up once a module has been imported
    (by the usual finders): how the sandbox adapts modules that would
    otherwise need what it does not have, without importing them early."""

    def __init__(self, fixes):
        self._fixes = fixes

    def find_spec(self, name, path=None, target=None):
        fix = self._fixes.get(name)
        if fix is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _FixingLoader(spec.loader, fix)
                return spec
        return None


class _FixingLoader:
    def __init__(self, loader, fix):
        self._loader = loader
        self._fix = fix

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._fix(module)


def _sandbox_asyncio(asyncio):
    """An event loop for pure coroutine work in the sandbox. The standard
    one wakes itself through a socket pair and waits with ``select`` on
    file descriptors; the sandbox has neither (nothing outside the node can
    wake it, and no socket can be opened), so this loop has no self-pipe
    and waits by sleeping until its next timer."""
    import errno
    import selectors
    import time

    class _SleepingSelector(selectors.BaseSelector):
        def register(self, fileobj, events, data=None):
            raise OSError(errno.ENOTSUP, "the sandbox has no sockets or pipes for asyncio to watch")

        def unregister(self, fileobj):
            raise KeyError(fileobj)

        def select(self, timeout=None):
            if timeout is None:
                raise RuntimeError(
                    "the event loop would wait forever: in the sandbox nothing outside the node can wake it")
            if timeout > 0:
                time.sleep(timeout)
            return []

        def get_map(self):
            return {}

        def close(self):
            pass

    class _SandboxEventLoop(asyncio.SelectorEventLoop):
        def __init__(self):
            super().__init__(_SleepingSelector())

        def _make_self_pipe(self):
            pass

        def _close_self_pipe(self):
            pass

        def _write_to_self(self):
            pass

    class _SandboxPolicy(asyncio.DefaultEventLoopPolicy):
        _loop_factory = _SandboxEventLoop

    asyncio.set_event_loop_policy(_SandboxPolicy())

    import signal
    if not hasattr(signal, "SIGINT"):
        # asyncio.run() installs a Ctrl-C handler when it can; the sandbox
        # has no signals (and nothing to press Ctrl-C).
        import types
        asyncio.runners.signal = types.SimpleNamespace(
            SIGINT=None, getsignal=lambda signum: None, default_int_handler=object())


_install_host_io()
_fill_time()
if sys.platform == "wasi":
    sys.meta_path.insert(0, _FixAfterImport({"asyncio": _sandbox_asyncio}))
