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
import builtins as _builtins
import logging
import sys

try:
    import _nodehost
except ImportError:
    # Imported outside the host (a plain script calling node classes):
    # nodes' logging goes to Python's own handlers.
    _nodehost = None

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
    ``process``, in definition order. A package's include the classes it
    takes from its own submodules (``from .nodes import Scale``)."""
    name = module.__name__
    inside = name + "." if hasattr(module, "__path__") else None
    return [
        obj for obj in vars(module).values()
        if isinstance(obj, type)
        and (obj.__module__ == name or (inside is not None and obj.__module__.startswith(inside)))
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


# The first line of a bundle: what the host passes in place of a module's
# source for a node made of several modules or with dependencies
# (host/src/package). The rest is JSON: {"entry": module name, "file" and
# "source": the node file (absent for a package), "modules": {name:
# [is_package, filename, source]}, "elsewhere": {top-level name: why it is
# not here}}.
_BUNDLE_HEADER = "# nodehost-bundle 1\n"

# Standard-library names: the standard library always wins over a bundled
# module of the same name (on every runtime, as the sandbox's is frozen and
# partly imported ahead of time).
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))

try:
    from _thread import get_ident as _thread_ident
except ImportError:  # a runtime without threads has one
    def _thread_ident():
        return 0

# Per thread, the node modules being run, outermost first: a missing
# module's import chain. Per thread because one CPython interpreter loads
# several nodes at once, and an import can let another thread run.
_importing = {}


def _remember_source(filename, source):
    """Tracebacks show a module's source lines from here, also where its
    file cannot be read (in the sandbox, or a module from a wheel). No
    modification time: the entry is never checked against a file."""
    import linecache
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    remember = getattr(_nodehost, "remember_source", None)
    if remember is not None:
        remember(filename, source)


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
# Identical frames in a row shown before "[Previous line repeated N more
# times]", as CPython's traceback module has it.
_REPEATS_SHOWN = 3


def _traceback_text(exc, text=None):
    """``exc``'s traceback as CPython's ``traceback.format_exception`` writes
    it (less the carets under an expression): what the RustPython runtimes
    report. RustPython's own writer ended with the exception's arguments
    (``AppError: (42, 'args')``, ``KeyError: k``) rather than ``str(exc)``,
    left out the module of the exception's class and the notes, showed a
    context that ``raise ... from None`` suppressed, and every frame of a
    deep recursion. Frames of this module are left out, as the CPython
    guest leaves out its own. ``text``: ``exc``'s own text, when the caller
    has read it already."""
    if isinstance(exc, _EXCEPTION_GROUPS):
        return _group_text(exc)
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append(_one_exception(exc, text))
        text = None
        if exc.__cause__ is not None:
            exc = exc.__cause__
            parts.append(_CAUSE)
        elif exc.__context__ is not None and not exc.__suppress_context__:
            exc = exc.__context__
            parts.append(_CONTEXT)
        else:
            break
    if parts and parts[-1] in (_CAUSE, _CONTEXT) and id(exc) in seen:
        parts.pop()
    return "".join(reversed(parts))


# (A RustPython without exception groups has none to draw.)
_EXCEPTION_GROUPS = getattr(_builtins, "BaseExceptionGroup", ())


def _group_text(exc):
    """An exception group's traceback: the tree of its exceptions, as
    CPython's ``traceback`` module draws it (``+-+---- 1 ----``), less the
    carets (RustPython's ``traceback`` draws them in 3.14's style, which
    3.11 does not)."""
    import traceback
    lines = []
    for chunk in traceback.format_exception(exc):
        for line in chunk.splitlines(True):
            marks = line.strip().lstrip("|").strip()
            if marks and not marks.strip("~^"):
                continue
            lines.append(line)
    return "".join(lines)


def _one_exception(exc, text=None):
    import linecache
    lines = []
    tb = exc.__traceback__
    own = _traceback_text.__code__.co_filename
    last, count = None, 0
    while tb is not None:
        code = tb.tb_frame.f_code
        lineno = tb.tb_lineno
        tb = tb.tb_next
        if code.co_filename == own:
            continue
        if not lines:
            lines.append("Traceback (most recent call last):\n")
        frame = (code.co_filename, lineno, code.co_name)
        if frame != last:
            if count > _REPEATS_SHOWN:
                lines.append(_repeated(count - _REPEATS_SHOWN))
            last, count = frame, 0
        count += 1
        if count > _REPEATS_SHOWN:
            continue
        lines.append('  File "%s", line %s, in %s\n' % frame)
        source = linecache.getline(code.co_filename, lineno) if isinstance(lineno, int) else ""
        if source.strip():
            lines.append("    %s\n" % source.strip())
    if count > _REPEATS_SHOWN:
        lines.append(_repeated(count - _REPEATS_SHOWN))
    cls = type(exc)
    name = getattr(cls, "__qualname__", cls.__name__)
    module = getattr(cls, "__module__", None)
    if module not in ("__main__", "builtins"):
        name = "%s.%s" % (module if isinstance(module, str) else "<unknown>", name)
    if text is None:
        try:
            text = _cut(str(exc))
        except Exception:
            text = "<exception str() failed>"
        if isinstance(exc, RecursionError):
            text = _recursion_text(text)
    lines.append("%s: %s\n" % (name, text) if text else name + "\n")
    notes = getattr(exc, "__notes__", None)
    if notes is not None:
        if isinstance(notes, (list, tuple)):
            for note in notes:
                if isinstance(note, str):
                    lines.append(_cut(note) + "\n")
                else:
                    try:
                        lines.append(_cut(repr(note)) + "\n")
                    except Exception:
                        lines.append("<note repr() failed>\n")
        else:
            try:
                lines.append(_cut(repr(notes)) + "\n")
            except Exception:
                lines.append("<__notes__ repr() failed>\n")
    return "".join(lines)


# As the runtime cuts an exception's text (the SDK's MAX_EXCEPTION_TEXT):
# a node raising a 50 MB message still gets its error reported.
_MAX_TEXT = 64 << 10


def _cut(text):
    if len(text) <= _MAX_TEXT:
        return text
    return "%s [... cut: %d characters in all]" % (text[:_MAX_TEXT], len(text))


def _recursion_text(text):
    """CPython's message for a RecursionError that RustPython raised with a
    trailing space, or with none where it found its native stack short."""
    return text.rstrip() or "maximum recursion depth exceeded"


def _repeated(n):
    return "  [Previous line repeated %d more time%s]\n" % (n, "s" if n > 1 else "")


def _explain_missing(e, bundle, chain):
    """Reword a ModuleNotFoundError raised while a node's modules are run:
    which module was missing, the import chain that wanted it (``chain``),
    and whether it exists for another runtime. ``bundle`` is the finder of
    the node's bundle, or None for a lone file."""
    if type(e).__name__ == "PackageNotFoundError":
        # importlib.metadata's: a distribution, not a module, was missing.
        return
    missing = getattr(e, "name", None)
    if not missing:
        # Some runtimes leave `name` unset: it is in the message.
        text = str(e)
        if text.startswith("No module named '") and text.endswith("'"):
            missing = text[len("No module named '"):-1]
    if not missing or getattr(e, "_nodehost_explained", False):
        return
    top = missing.partition(".")[0]
    elsewhere = bundle.elsewhere if bundle is not None else {}
    if top in elsewhere and sys.implementation.name == "cpython" and sys.platform != "wasi":
        # The trusted cpython runtime: it could, but its environment lacks it.
        why = ("it is a native-extension dependency, which this runtime imports from its environment, where it is"
               " not installed: install the locked wheel in a virtual environment and name it with venv = ...")
    elif top in elsewhere:
        why = elsewhere[top]
    elif top in _STDLIB and sys.implementation.name != "cpython":
        why = "'%s' is a standard-library module this runtime does not have; the cpython runtime has it" % top
    elif bundle is not None:
        why = "it is neither one of the node's modules, nor a locked dependency, nor in the standard library"
    else:
        why = "it is not in the standard library, and the node has no modules beside it"
    message = "No module named %r (import chain: %s): %s" % (missing, " -> ".join(chain), why)
    for attr, value in (("args", (message,)), ("msg", message), ("_nodehost_explained", True)):
        try:
            setattr(e, attr, value)
        except Exception:
            pass


def _run_module(module, filename, source, bundle):
    """Run a node module's source in ``module``; ``bundle`` is the finder
    it came from, or None for a lone file."""
    _remember_source(filename, source)
    code = compile(source, filename, "exec")
    thread = _thread_ident()
    chain = _importing.setdefault(thread, [])
    chain.append(module.__name__)
    try:
        exec(code, module.__dict__)
    except ModuleNotFoundError as e:
        _explain_missing(e, bundle, chain)
        raise
    finally:
        chain.pop()
        if not chain:
            del _importing[thread]


class _BundleFinder:
    """Imports a node's own modules and its locked dependencies from the
    bundle the host read ahead of time: no file is opened, on any runtime."""

    def __init__(self, modules, elsewhere, dists=None):
        self.modules = modules
        self.elsewhere = elsewhere
        self.dists = dists or {}

    def find_distributions(self, context=None):
        """The locked dependencies' metadata, for ``importlib.metadata``
        (``version("humanize")`` and the like)."""
        if not self.dists:
            return
        import re
        import importlib.metadata as metadata

        def norm(name):
            return re.sub(r"[-_.]+", "_", name).lower()

        class BundledDistribution(metadata.Distribution):
            def __init__(self, files):
                self._files = files

            def read_text(self, filename):
                return self._files.get(filename)

            def locate_file(self, path):
                return path

        wanted = getattr(context, "name", None)
        for files in self.dists.values():
            dist = BundledDistribution(files)
            if wanted is None or norm(dist.metadata["Name"] or "") == norm(wanted):
                yield dist

    def find_spec(self, name, path=None, target=None):
        entry = self.modules.get(name)
        if entry is None or name.partition(".")[0] in _STDLIB:
            return None
        from importlib.machinery import ModuleSpec
        spec = ModuleSpec(name, self, origin=entry[1], is_package=bool(entry[0]))
        spec.has_location = True
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        _is_package, filename, source = self.modules[module.__spec__.name]
        module.__file__ = filename
        _run_module(module, filename, source, self)

    def get_source(self, name):
        entry = self.modules.get(name)
        return None if entry is None else entry[2]


def _check_native(native):
    """The trusted cpython runtime imports a locked native-extension
    dependency from its environment: warn when the version there is not the
    locked one, or there is none. (The sandboxes cannot load one at all.)"""
    if not native or sys.implementation.name != "cpython" or sys.platform == "wasi":
        return
    import importlib.metadata as metadata
    log = logging.getLogger("nodehost")
    for name, locked in sorted(native.items()):
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            log.warning("locked native-extension dependency %s %s is not installed in this runtime's environment:"
                        " install the locked wheel in the venv the manifest names", name, locked)
            continue
        if have != locked:
            log.warning("locked native-extension dependency %s %s: this runtime's environment has %s, which the"
                        " node imports (install the locked wheel in its venv to match the lock)", name, locked, have)


def _install_bundle(text):
    """Put a bundle's finder first on ``sys.meta_path``; return the bundle.
    Where one interpreter loads several nodes (CPython), a module an earlier
    bundle imported under a name this one also has is forgotten, so this
    node imports its own; earlier finders stay, behind this one."""
    import json
    bundle = json.loads(text[len(_BUNDLE_HEADER):])
    finder = _BundleFinder(bundle["modules"], bundle.get("elsewhere") or {}, bundle.get("dists"))
    _check_native(bundle.get("native"))
    for name, module in list(sys.modules.items()):
        loader = getattr(getattr(module, "__spec__", None), "loader", None)
        if name in finder.modules and isinstance(loader, _BundleFinder):
            del sys.modules[name]
    sys.meta_path.insert(0, finder)
    return bundle, finder


def _load(name, source, filename):
    """Run a node module's source as module ``name``; return the module and
    descriptions of its node types. ``source`` may be a bundle: then the
    node's own module (a file's, or a package) is the bundle's entry, and
    the bundle's modules are importable."""
    finder = None
    if source.startswith(_BUNDLE_HEADER):
        bundle, finder = _install_bundle(source)
        name = bundle["entry"]
        if "source" not in bundle:
            import importlib
            module = importlib.import_module(name)
            return module, [_describe(cls) for cls in _node_classes(module)]
        filename, source = bundle["file"], bundle["source"]
    module = type(sys)(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        _run_module(module, filename, source, finder)
    except BaseException:
        del sys.modules[name]
        raise
    return module, [_describe(cls) for cls in _node_classes(module)]


def _class_module(module, module_name):
    """The module ``module_name`` of a ``class = "module:Class"``: relative
    to a package node (``sub.module``, ``.sub.module``), or absolute."""
    import importlib
    base = module.__name__
    if module_name == base or module_name.startswith(base + ".") or not hasattr(module, "__path__"):
        return importlib.import_module(module_name.lstrip("."))
    return importlib.import_module("." + module_name.lstrip("."), base)


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
    elif ":" in class_name:
        # "sub.module:Class": a class in another module of the node.
        module_name, _, attr = class_name.rpartition(":")
        cls = getattr(_class_module(module, module_name), attr, None)
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
    there already does. On WASI and RustPython, ``_nodehost_time`` gives
    ``strftime``, ``gmtime`` and the CPU clocks as CPython on Linux has
    them."""
    import time
    if not hasattr(time, "tzname"):
        time.tzname = ("UTC", "UTC")
        time.timezone = 0
        time.altzone = 0
        time.daylight = 0
    if sys.platform == "wasi" or sys.implementation.name == "rustpython":
        import _nodehost_time
        _nodehost_time.install()


def _fill_os():
    """WASI has no permission bits. RustPython's ``os`` there has no
    ``chmod``, which ``shutil.copy`` and ``copymode`` call, and CPython's
    WASI build has one that succeeds even for a file that is not there.
    In the sandbox ``chmod`` checks its arguments and that the file exists,
    raising what CPython raises when it does not, and changes nothing."""
    import os
    if sys.platform != "wasi":
        return
    import operator

    # CPython's own WASI chmod is not called: it keeps no mode either, and
    # refuses follow_symlinks=False, which CPython on Linux takes.
    def chmod(path, mode, *, dir_fd=None, follow_symlinks=True):
        operator.index(mode)
        if dir_fd is None and follow_symlinks:
            os.stat(path)
        else:
            os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)

    chmod.__doc__ = "Change the access mode of a path (the sandbox has no permission bits: the mode is not kept)."
    os.chmod = chmod
    _fill_os_info(os)


def _struct_seq(name, fields):
    """A tuple type with named fields that reads as CPython's ``posix``
    struct sequences do (``posix.uname_result(sysname='wasi', ...)``)."""
    import operator

    def __new__(cls, values):
        values = tuple(values)
        if len(values) != len(fields):
            raise TypeError("os.%s() takes a %d-sequence (%d-sequence given)" % (name, len(fields), len(values)))
        return tuple.__new__(cls, values)

    def __repr__(self):
        return "posix.%s(%s)" % (name, ", ".join("%s=%r" % pair for pair in zip(fields, self)))

    namespace = {"__slots__": (), "__new__": __new__, "__repr__": __repr__, "__module__": "posix",
                 "n_fields": len(fields), "n_sequence_fields": len(fields), "n_unnamed_fields": 0}
    namespace.update((field, property(operator.itemgetter(k))) for k, field in enumerate(fields))
    return type(name, (tuple,), namespace)


def _fill_os_info(os):
    """``os.uname`` where RustPython's WASI ``os`` has none (what CPython's
    WASI build answers: ``wasi``, ``wasm32``), and ``os.times`` in both
    sandboxes: RustPython had none, and CPython's WASI one reported the
    user time from the C library's clock, which in a snapshot counts from
    when the snapshot was made (a large negative number). Its user time
    is ``time.process_time()``, the monotonic clock since the instance
    started (the sandbox has no CPU clock), its elapsed time the monotonic
    clock."""
    import time
    if not hasattr(os, "uname"):
        os.uname_result = _struct_seq("uname_result", ("sysname", "nodename", "release", "version", "machine"))

        def uname():
            """Return an object identifying the current operating system."""
            return os.uname_result(("wasi", "(none)", "0.0.0", "0.0.0", "wasm32"))

        os.uname = uname
    os.times_result = _struct_seq("times_result", ("user", "system", "children_user", "children_system", "elapsed"))

    def times():
        """Return a collection containing process timing information."""
        return os.times_result((time.process_time(), 0.0, 0.0, 0.0, time.monotonic()))

    os.times = times


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


class _TzdataFinder:
    """The IANA time zone database as the ``tzdata`` package, for
    ``zoneinfo`` (which reads ``tzdata.zoneinfo`` resources when no
    directory of ``zoneinfo.TZPATH`` has the zone: the sandbox has no
    /usr/share/zoneinfo, and RustPython's TZPATH is empty). The package is
    the PyPI ``tzdata`` wheel, pinned and checked at build time and embedded
    in the runtime (``_nodehost.tzdata_wheel()``), served from memory: its
    packages are run from the zip and its resources read through
    ``zipfile.Path``. Placed last on ``sys.meta_path``, so an installed or
    bundled ``tzdata`` comes first."""

    def __init__(self, wheel):
        self._wheel = wheel
        self._root = None

    def _archive(self):
        """The wheel as a ``zipfile.Path`` (one, so that its name lookups,
        built on first use, are built once), or False when there is none."""
        if self._root is None:
            import io
            import zipfile
            data = self._wheel()
            self._root = zipfile.Path(zipfile.ZipFile(io.BytesIO(data))) if data else False
            if self._root:
                self._root.joinpath("tzdata/zoneinfo/").exists()
        return self._root

    def find_spec(self, name, path=None, target=None):
        if name != "tzdata" and not name.startswith("tzdata."):
            return None
        root = self._archive()
        init = name.replace(".", "/") + "/__init__.py"
        if not root or init not in root.root.NameToInfo:
            return None
        import importlib.util
        return importlib.util.spec_from_loader(name, _TzdataLoader(root, init), is_package=True)


class _TzdataLoader:
    """Runs a package of the embedded ``tzdata`` wheel and reads its
    resources (the compiled zone files)."""

    def __init__(self, root, init):
        self._root = root
        self._init = init

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source = self._root.root.read(self._init).decode("utf-8")
        exec(compile(source, "<tzdata>/" + self._init, "exec"), module.__dict__)

    def get_resource_reader(self, name):
        return self

    def files(self):
        return self._root.joinpath(self._init[:-len("__init__.py")])


_tzdata = _TzdataFinder(_nodehost.tzdata_wheel) if hasattr(_nodehost, "tzdata_wheel") else None


def _rustpython_threading(threading):
    """``threading`` on RustPython as on CPython: its locks
    (``_rustpython_locks``), and, where a thread runs to its end when
    started, the thread that started it (``_keep_starter_thread``)."""
    _rustpython_locks(threading)
    if _thread_start_mode() == "at-start":
        _keep_starter_thread(threading)
        _local_per_thread(threading)


def _local_per_thread(threading):
    """``threading.local`` keeps each thread's values apart where a thread
    runs inside ``start``. RustPython's keys them on the OS thread, which
    such a thread shares with its starter: the thread saw its starter's
    values and its changes were the starter's. The pure-Python
    ``_threading_local.local`` keys them on ``current_thread()``, the
    thread's own ``Thread`` while it runs."""
    import _threading_local
    threading.local = _threading_local.local


def _keep_starter_thread(threading):
    """A thread that runs to its end inside ``start`` runs under its
    starter's identity, so it replaced the starter's entry in the table of
    running threads and, ending, removed it: ``current_thread()`` then gave
    a ``Dummy-2`` thread where CPython gives ``MainThread``, and
    ``enumerate()`` lost the main thread. The starter's entry is put back
    when the thread ends."""
    import _thread
    import functools
    bootstrap_inner = threading.Thread._bootstrap_inner

    @functools.wraps(bootstrap_inner)
    def _bootstrap_inner(self):
        ident = _thread.get_ident()
        starter = threading._active.get(ident)
        try:
            bootstrap_inner(self)
        finally:
            if starter is not None:
                with threading._active_limbo_lock:
                    threading._active[ident] = starter

    threading.Thread._bootstrap_inner = _bootstrap_inner


def _rustpython_locks(threading):
    """RustPython's locks as CPython's: its lock's ``acquire`` refuses the
    ``blocking`` keyword, and its RLock has no ``_is_owned``, which
    ``Condition`` needs (so ``notify`` said "un-acquired lock", and
    ``queue``, ``concurrent.futures`` and ``Event.set`` failed). Locks get a
    wrapper taking CPython's arguments; RLock the pure-Python one the
    threading module carries, built on those locks."""
    import _thread
    try:
        _thread.allocate_lock().acquire(blocking=False)
        return
    except TypeError:
        pass
    allocate = _thread.allocate_lock

    class Lock:
        """A lock taking CPython's arguments."""

        __slots__ = ("_lock",)

        def __init__(self):
            self._lock = allocate()

        def acquire(self, blocking=True, timeout=-1):
            # RustPython's own lock said True when asked to wait for a lock
            # already held, with or without a timeout: `Condition.wait` then
            # returned at once, and a `queue.get` before its `put` spun
            # until the deadline. It is asked without waiting here, and the
            # wait is done in Python.
            if not blocking:
                if timeout != -1:
                    raise ValueError("can't specify a timeout for a non-blocking call")
                return self._lock.acquire(False)
            if timeout < 0 and timeout != -1:
                raise ValueError("timeout value must be a non-negative number")
            if self._lock.acquire(False):
                return True
            return _wait_for_lock(self._lock, timeout)

        def release(self):
            self._lock.release()

        def locked(self):
            return self._lock.locked()

        def _at_fork_reinit(self):
            self._lock = allocate()

        __enter__ = acquire

        def __exit__(self, *exc):
            self._lock.release()

        def __repr__(self):
            return "<%s lock object>" % ("locked" if self.locked() else "unlocked")

    threading.Lock = threading._allocate_lock = Lock
    threading._CRLock = None


_thread_mode = None


def _thread_start_mode():
    """How this runtime runs a thread it starts: ``"parallel"`` (CPython: the thread
    runs beside its starter), ``"at-start"`` (RustPython built without
    threads, in the sandbox and natively: the thread runs to its end inside
    ``start``, on the starter's own stack), or ``"never"`` (CPython's WASI
    build: ``start`` raises). Asked once, by starting a thread that only
    reports where it ran."""
    global _thread_mode
    if _thread_mode is None:
        import _thread
        starter = _thread.get_ident()
        ran_on = []
        try:
            _thread.start_new_thread(lambda: ran_on.append(_thread.get_ident()), ())
        except RuntimeError:
            _thread_mode = "never"
        else:
            _thread_mode = "at-start" if ran_on == [starter] else "parallel"
    return _thread_mode


def _wait_for_lock(lock, timeout):
    """Take ``lock``, held by another thread, within ``timeout`` seconds (-1:
    however long it takes), checking at intervals that grow to 5 ms. In the
    sandbox (and on RustPython natively, built without threads) a thread
    runs to its end when started, so nothing can release a lock the running
    code holds: waiting with a timeout sleeps it out and fails, as it would
    on CPython, and waiting without one is a deadlock, raised at once rather
    than waited out until the node's deadline."""
    import time
    if _thread_start_mode() != "parallel":
        if timeout == -1:
            raise RuntimeError("deadlock: waiting without a timeout for a lock that is held, where nothing can "
                               "release it (in the sandbox, a thread runs to its end when it is started)")
        time.sleep(timeout)
        return lock.acquire(False)
    deadline = None if timeout == -1 else time.monotonic() + timeout
    pause = 50e-6
    while True:
        if lock.acquire(False):
            return True
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            pause = min(pause, left)
        time.sleep(pause)
        pause = min(pause * 2, 5e-3)


def _inline_thread_pool(thread):
    """``ThreadPoolExecutor`` where a thread cannot run beside the code that
    starts it (both sandboxes, and RustPython natively): a submitted call
    runs at once in the caller and its future is done when ``submit``
    returns, with the call's result or exception, as a worker would have
    left it. The standard pool could not work there: its workers wait on a
    queue, which RustPython's at-start threads cannot do (the first one to
    find the queue empty died, so later calls were never run and their
    ``result()`` waited until the node's deadline) and CPython's WASI build
    cannot start. The initializer runs once, before the first call; if it
    raises, the pool is broken as a worker's failed initializer leaves it.
    The node's deadline is not caught into a future: it ends the call."""
    if _thread_start_mode() == "parallel":
        return
    import functools
    from concurrent.futures import _base

    def worker(pool):
        """What one of ``pool``'s workers would hold: the initializer to run
        once, and how it runs a call (through the pool's worker context
        where the standard library has one, from Python 3.14)."""
        if hasattr(pool, "_create_worker_context"):
            context = pool._create_worker_context()
            return context.initialize, lambda fn, args, kwargs: context.run(
                pool._resolve_work_item_task(fn, args, kwargs))
        initializer, initargs = pool._initializer, pool._initargs
        return (lambda: initializer and initializer(*initargs)), (lambda fn, args, kwargs: fn(*args, **kwargs))

    @functools.wraps(thread.ThreadPoolExecutor.submit)
    def submit(self, fn, /, *args, **kwargs):
        broken = getattr(self, "BROKEN", thread.BrokenThreadPool)
        with self._shutdown_lock:
            if self._broken:
                raise broken(self._broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if thread._shutdown:
                raise RuntimeError("cannot schedule new futures after interpreter shutdown")
        future = _base.Future()
        run = self.__dict__.get("_nodehost_run")
        if run is None:
            initialize, run = worker(self)
            self._nodehost_run = run
            try:
                initialize()
            except DeadlineExceeded:
                raise
            except BaseException:
                _base.LOGGER.critical("Exception in initializer:", exc_info=True)
                self._initializer_failed()
                future.set_exception(broken(self._broken))
                return future
        future.set_running_or_notify_cancel()
        try:
            result = run(fn, args, kwargs)
        except DeadlineExceeded:
            raise
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    thread.ThreadPoolExecutor.submit = submit


def _cpython_datetime_texts(pydatetime):
    """A date or time out of range refused in CPython 3.11's words (its C
    module's: ``day is out of range for month``, ``year 0 is out of
    range``); ``_pydatetime``, native RustPython's ``datetime``, words them
    as 3.12+ does (``day 29 must be in range 1..28 for month 2 in year
    2023``). Node code that returns ``str(e)`` gives CPython's text. And a
    year below 1000 is written as 3.11 writes it (``%Y`` of year 5 is
    ``5``). (The
    sandbox's RustPython has ``datetime`` in Rust; its texts are rewritten
    by ``nodehost_texts.rs``.)"""
    check_date, check_time = pydatetime._check_date_fields, pydatetime._check_time_fields

    def _check_date_fields(year, month, day):
        try:
            return check_date(year, month, day)
        except ValueError as e:
            text = str(e)
        if text.startswith("year "):
            raise ValueError(f"year {year} is out of range")
        if text.startswith("month "):
            raise ValueError("month must be in 1..12")
        raise ValueError("day is out of range for month")

    def _check_time_fields(hour, minute, second, microsecond, fold):
        try:
            return check_time(hour, minute, second, microsecond, fold)
        except ValueError as e:
            text = str(e)
        raise ValueError(text.partition(", not ")[0])

    pydatetime._check_date_fields = _check_date_fields
    pydatetime._check_time_fields = _check_time_fields
    if hasattr(pydatetime, "_normalize_century"):
        # A year below 1000 in `%Y`, `%G`, `%F` and `%C` as glibc writes it
        # for 3.11 (`5`), not padded to `0005` as 3.13 does.
        pydatetime._normalize_century = False


def _cpython_decimal(pydecimal):
    """``decimal`` on the RustPython runtimes (``_pydecimal``) as CPython's
    C module: its signals (``_cpython_decimal_signals``) and its texts and
    limits (``_cpython_decimal_texts``)."""
    _cpython_decimal_signals(pydecimal)
    _cpython_decimal_texts(pydecimal)


def _cpython_decimal_signals(pydecimal):
    """A trapped ``decimal`` signal raised as CPython's C module raises it:
    with the list of its conditions for argument, so ``str(e)`` reads
    ``[<class 'decimal.DivisionByZero'>]`` (``_pydecimal``, the RustPython
    runtimes' ``decimal``, gave its explanation, ``x / 0``)."""
    context = pydecimal.Context
    raise_error, conditions = context._raise_error, pydecimal._condition_map

    def _raise_error(self, condition, explanation=None, *args):
        error = conditions.get(condition, condition)
        if error in self._ignored_flags or not self.traps[error]:
            return raise_error(self, condition, explanation, *args)
        self.flags[error] = 1
        raise error([condition])

    context._raise_error = _raise_error


#: The order CPython's C ``decimal`` lists a context's signals in.
_DECIMAL_SIGNAL_ORDER = ("Clamped", "InvalidOperation", "DivisionByZero", "Inexact", "FloatOperation", "Overflow",
                         "Rounded", "Subnormal", "Underflow")

#: ``_pydecimal``'s refusals, in the C module's words.
_DECIMAL_WORDS = {
    "Cannot convert NaN to integer": "cannot convert NaN to integer",
    "cannot round a NaN": "cannot convert NaN to integer",
    "Cannot convert infinity to integer": "cannot convert Infinity to integer",
    "cannot round an infinity": "cannot convert Infinity to integer",
    "Cannot convert signaling NaN to float": "cannot convert signaling NaN to float",
}


def _cpython_decimal_texts(pydecimal):
    """``decimal`` (``_pydecimal`` on the RustPython runtimes) as 64-bit
    CPython's C module shows it: a context's repr lists its flags and traps
    in the C module's order (``traps=[InvalidOperation, DivisionByZero,
    Overflow]``, where ``_pydecimal`` gave ``[DivisionByZero, Overflow,
    InvalidOperation]``); ``int()``, ``round()`` and ``float()`` of a NaN or
    an infinity refuse in its words (``cannot convert NaN to integer``);
    and the limits are the 64-bit ones (``MAX_PREC`` 999999999999999999,
    where wasm32's ``sys.maxsize`` gave 425000000)."""
    import functools
    context, number = pydecimal.Context, pydecimal.Decimal

    def __repr__(self):
        def names(signals):
            on = {signal.__name__ for signal, value in signals.items() if value}
            return ", ".join(name for name in _DECIMAL_SIGNAL_ORDER if name in on)
        return ("Context(prec=%d, rounding=%s, Emin=%d, Emax=%d, capitals=%d, clamp=%d, flags=[%s], traps=[%s])"
                % (self.prec, self.rounding, self.Emin, self.Emax, self.capitals, self.clamp, names(self.flags),
                   names(self.traps)))

    context.__repr__ = functools.wraps(context.__repr__)(__repr__)

    def reworded(method):
        @functools.wraps(method)
        def call(*args):
            try:
                return method(*args)
            except (ValueError, OverflowError) as e:
                words = _DECIMAL_WORDS.get(e.args[0]) if len(e.args) == 1 and isinstance(e.args[0], str) else None
                if words is None:
                    raise
                raise type(e)(words) from None
        return call

    for name in ("__int__", "__trunc__", "__round__", "__float__", "__floor__", "__ceil__"):
        if name in number.__dict__:
            setattr(number, name, reworded(number.__dict__[name]))
    if pydecimal.MAX_PREC != 999999999999999999:
        pydecimal.MAX_PREC = pydecimal.MAX_EMAX = 999999999999999999
        pydecimal.MIN_EMIN = -999999999999999999
        pydecimal.MIN_ETINY = pydecimal.MIN_EMIN - (pydecimal.MAX_PREC - 1)
        pydecimal.IEEE_CONTEXT_MAX_BITS = 512


def _json_decoding_texts(decoder):
    """A malformed document refused in CPython 3.11's words and at its
    position: 3.13 calls a trailing comma ``Illegal trailing comma before
    end of object`` (or ``array``) at the comma, where 3.11 says what it
    expected after it (``Expecting property name enclosed in double
    quotes``, ``Expecting value``) where the next value would start; and
    3.14 names the character in ``Invalid control character U+0009 at``
    and ``Invalid \\escape: U+0078``. Node code that reports ``str(e)``
    of a bad input line gives CPython's text."""
    import functools
    error = decoder.JSONDecodeError
    init = error.__init__

    @functools.wraps(init)
    def __init__(self, msg, doc, pos):
        if msg.startswith("Illegal trailing comma before end of "):
            msg = "Expecting property name enclosed in double quotes" if msg.endswith("object") else "Expecting value"
            pos += 1
            while pos < len(doc) and doc[pos] in " \t\n\r":
                pos += 1
        elif msg.startswith("Invalid control character U+"):
            msg = "Invalid control character at"
        elif msg.startswith("Invalid \\escape: "):
            msg = "Invalid \\escape"
        init(self, msg, doc, pos)

    error.__init__ = __init__


def _json_encoding_texts(encoder):
    """``allow_nan=False`` refusing a float in CPython 3.11's words where
    3.11 encodes in C (``json.dumps`` without ``indent``): 3.14 adds the
    value there too (``...not JSON compliant: nan``), which 3.11's Python
    encoder (``json.dump``, ``indent``) also writes."""
    import functools
    iterencode = encoder.JSONEncoder.iterencode
    prefix = "Out of range float values are not JSON compliant: "

    def retext(e):
        if str(e).startswith(prefix):
            return ValueError(prefix[:-2])
        return None

    def chunks_retexted(chunks):
        try:
            yield from chunks
        except ValueError as e:
            plain = retext(e)
            if plain is None:
                raise
            raise plain from None

    @functools.wraps(iterencode)
    def _iterencode(self, o, _one_shot=False):
        if not _one_shot or self.indent is not None:
            return iterencode(self, o, _one_shot)
        try:
            chunks = iterencode(self, o, _one_shot)
        except ValueError as e:
            plain = retext(e)
            if plain is None:
                raise
            raise plain from None
        if isinstance(chunks, (list, tuple)):
            return chunks
        return chunks_retexted(chunks)

    encoder.JSONEncoder.iterencode = _iterencode


def _pickle_protocol_4(pickle):
    """``pickle.dumps`` and ``dump`` with no protocol named use protocol 4,
    CPython 3.11's default: the 3.14 standard library of the RustPython
    sandbox and the CPython one defaults to 5, so every such pickle's
    second byte differed (and a digest of it, say a cache key)."""
    if pickle.DEFAULT_PROTOCOL <= 4:
        return
    dumps, dump = pickle.dumps, pickle.dump

    def _dumps(obj, protocol=None, *, fix_imports=True, buffer_callback=None):
        protocol = 4 if protocol is None else protocol
        return dumps(obj, protocol, fix_imports=fix_imports, buffer_callback=buffer_callback)

    def _dump(obj, file, protocol=None, *, fix_imports=True, buffer_callback=None):
        protocol = 4 if protocol is None else protocol
        return dump(obj, file, protocol, fix_imports=fix_imports, buffer_callback=buffer_callback)

    _dumps.__name__, _dumps.__qualname__, _dumps.__doc__ = "dumps", "dumps", dumps.__doc__
    _dump.__name__, _dump.__qualname__, _dump.__doc__ = "dump", "dump", dump.__doc__
    pickle.DEFAULT_PROTOCOL, pickle.dumps, pickle.dump = 4, _dumps, _dump


def _calendar_ints(calendar):
    """Weekdays as CPython 3.11's ``calendar`` gives them: plain ints.
    3.12 made ``weekday`` (and with it ``monthrange``) return a ``Day``
    member and the constants ``MONDAY`` .. ``SUNDAY`` ``Day`` members, so a
    node returning ``calendar.monthrange(2024, 2)`` printed
    ``(calendar.THURSDAY, 29)`` where CPython 3.11 prints ``(3, 29)``."""
    weekday = calendar.weekday

    def _weekday(year, month, day):
        return int(weekday(year, month, day))

    _weekday.__name__, _weekday.__qualname__, _weekday.__doc__ = "weekday", "weekday", weekday.__doc__
    calendar.weekday = _weekday
    for number, name in enumerate(("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")):
        setattr(calendar, name, number)


def _difflib_strings(difflib):
    """``unified_diff``, ``context_diff`` and ``diff_bytes`` take two
    strings as sequences of one-character lines, as on CPython 3.11; the
    3.13 standard library refuses them ("input must be a sequence of
    strings, not str"). Lines that are not strings are still refused in
    3.11's words."""
    def _check_types(a, b, *args):
        for lines in (a, b):
            if lines and not isinstance(lines[0], str):
                raise TypeError("lines to compare must be str, not %s (%r)" % (type(lines[0]).__name__, lines[0]))
        for arg in args:
            if not isinstance(arg, str):
                raise TypeError("all arguments must be str, not: %r" % (arg,))

    difflib._check_types = _check_types


def _statistics_samples(statistics):
    """``NormalDist.samples`` draws as CPython 3.11 does, one
    ``Random.gauss`` per sample, so a seeded call gives 3.11's numbers
    (3.12 changed it to the inverse CDF of ``random()``)."""
    import random

    def samples(self, n, *, seed=None):
        "Generate *n* samples for a given mean and standard deviation."
        gauss = random.gauss if seed is None else random.Random(seed).gauss
        mu, sigma = self._mu, self._sigma
        return [gauss(mu, sigma) for _ in range(n)]

    samples.__qualname__ = "NormalDist.samples"
    statistics.NormalDist.samples = samples


def _csv_dialect_order(csv):
    """``csv.list_dialects()`` in registration order, as CPython's
    ``_csv`` (a dict) gives it: RustPython's keeps the dialects in a hash
    map, so the list came in another order each build (``['unix', 'excel',
    'excel-tab']``). The three that ``csv`` registers on import come first,
    in CPython's order; a name registered again keeps its place."""
    import _csv

    register, unregister, listed = _csv.register_dialect, _csv.unregister_dialect, _csv.list_dialects
    order = [name for name in ("excel", "excel-tab", "unix") if name in listed()]

    def register_dialect(name, *args, **kwargs):
        register(name, *args, **kwargs)
        if name not in order:
            order.append(name)

    def unregister_dialect(name):
        unregister(name)
        if name in order:
            order.remove(name)

    def list_dialects():
        names = listed()
        return [name for name in order if name in names] + [name for name in names if name not in order]

    for fixed, original in ((register_dialect, register), (unregister_dialect, unregister), (list_dialects, listed)):
        fixed.__name__ = fixed.__qualname__ = original.__name__
        fixed.__doc__ = original.__doc__
        setattr(csv, fixed.__name__, fixed)
        setattr(_csv, fixed.__name__, fixed)


def _array_typecodes(array):
    """``array.typecodes`` as CPython 3.11 gives it: RustPython's ``array``
    has none (it takes the same thirteen codes), and 3.13+ list ``'w'``
    too (still taken: only the listing reads as 3.11's)."""
    if getattr(array, "typecodes", "bBuwhHiIlLqQfd") == "bBuwhHiIlLqQfd":
        array.typecodes = "bBuhHiIlLqQfd"


def _warm_zoneinfo(zoneinfo):
    """Read the embedded tz database's index (a pure-Python zip parse, the
    most of a first ``ZoneInfo``'s 170 ms) once ``zoneinfo`` is imported: the
    sandbox's snapshot imports it, so instances start with the index read."""
    if _tzdata is not None:
        _tzdata._archive()
        import importlib.resources  # noqa: F401  (what zoneinfo reads the zones with)


if _nodehost is not None:
    _install_host_io()
_fill_time()
_fill_os()
_fixes = {}
if sys.platform == "wasi":
    _fixes.update({"asyncio": _sandbox_asyncio, "zoneinfo": _warm_zoneinfo})
if sys.platform == "wasi" or sys.implementation.name == "rustpython":
    _fixes["concurrent.futures.thread"] = _inline_thread_pool
if sys.implementation.name == "rustpython":
    _fixes.update({
        "threading": _rustpython_threading,
        "_pydatetime": _cpython_datetime_texts,
        "_pydecimal": _cpython_decimal,
        "csv": _csv_dialect_order,
    })
if sys.version_info >= (3, 13):
    _fixes.update({"json.decoder": _json_decoding_texts, "json.encoder": _json_encoding_texts})
if sys.version_info >= (3, 12):
    _fixes.update({
        "pickle": _pickle_protocol_4,
        "calendar": _calendar_ints,
        "statistics": _statistics_samples,
    })
if sys.version_info >= (3, 13):
    _fixes["difflib"] = _difflib_strings
if sys.version_info >= (3, 13) or sys.implementation.name == "rustpython":
    _fixes["array"] = _array_typecodes
for _name, _fix in _fixes.items():
    if _name in sys.modules:
        _fix(sys.modules[_name])
if _fixes:
    sys.meta_path.insert(0, _FixAfterImport(_fixes))
if _tzdata is not None:
    sys.meta_path.append(_tzdata)
