"""Python nodes on CPython: the ``node-component`` world (``wit/node.wit``)
built with componentize-py, a peer of the RustPython guest
(``guest-python``) running the same node files through the same helper
module (``guest-python/python/nodehost.py``) with the same value rules.

componentize-py imports this module when it builds the component and
snapshots the interpreter afterwards, so CPython, the helper module and
everything imported here are ready when the host instantiates it.

The standard library: componentize-py gives the component no files, so
``_nodehost_stdlib`` carries the pure-Python modules' sources in the snapshot
and imports them on demand.

Settings: ``max-outputs`` is enforced. ``interruptible`` installs the helper
module's ``sys.monitoring`` hook, which polls ``host.interrupt-requested``
every 32 loop iterations or function starts of node code and raises
``nodehost.DeadlineExceeded`` there once the host asks.

A node's ``cleanup()`` runs when the host closes the node (``node.close``),
which it does before dropping it: componentize-py 0.25.1 runs no destructor
of an exported resource.
"""

import sys

# The build runs this with the source directories mounted writable: leave
# no bytecode caches in them (guest-python/python is the repository's).
sys.dont_write_bytecode = True

import builtins  # noqa: E402
import functools
import gc
import importlib
import operator
import linecache
import os
import traceback

import nodehost
import _nodehost
import _nodehost_pbkdf2
import _nodehost_stdlib
import _nodehost_values as values
import runtime
from runtime import K, State, error, exception_error, flush_io
from wit_world import exports
from wit_world.imports import types as t

runtime._own_files.add(__file__)

# The component's stdout carries its outputs' staged bytes; text printed
# to the original stream object would end up among them, so it goes to the
# log like sys.stdout (which nodehost points there).
sys.__stdout__ = sys.stdout

# Carry the standard library's sources for modules nodes import later.
_nodehost_stdlib.install(os.path.dirname(traceback.__file__))

# hashlib's pbkdf2_hmac comes from OpenSSL, which this build has not.
_nodehost_pbkdf2.install()

# zoneinfo's search path, fixed now in the snapshot: empty. The component
# has no /usr/share/zoneinfo, and sysconfig, which zoneinfo asks when
# PYTHONTZPATH is unset, has no build data in it (the import failed looking
# for `_sysconfigdata__wasi_wasm32-wasi`). The zones then come from the
# embedded tzdata package (`_nodehost.tzdata_wheel`), as on RustPython.
os.environ["PYTHONTZPATH"] = ""
import zoneinfo  # noqa: E402,F401
del os.environ["PYTHONTZPATH"]


def _sum(iterable, /, start=0):
    """sum(iterable, /, start=0)

    Return the sum of a 'start' value (default: 0) plus an iterable of numbers,
    adding left to right as CPython 3.11 does."""
    if isinstance(start, str):
        raise TypeError("sum() can't sum strings [use ''.join(seq) instead]")
    if isinstance(start, bytes):
        raise TypeError("sum() can't sum bytes [use b''.join(seq) instead]")
    if isinstance(start, bytearray):
        raise TypeError("sum() can't sum bytearray [use b''.join(seq) instead]")
    return functools.reduce(operator.add, iterable, start)


# CPython 3.12 made sum() of floats compensated (Neumaier's): this
# interpreter (3.14) gave other last digits than CPython 3.11, the host's
# CPython and the other runtimes' (sum([0.1] * 10) is 0.9999999999999999
# there, 1.0 here). Summed as 3.11 sums, each addition rounded; the loop is
# still C's (functools.reduce).
_sum.__name__ = _sum.__qualname__ = "sum"
builtins.sum = _sum


def _keep_source(module):
    """Keep a module's source for tracebacks (its file is gone at run time)."""
    path = getattr(module, "__file__", None)
    try:
        with open(path) as f:
            source = f.read()
    except (OSError, TypeError):
        return
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)


_keep_source(nodehost)


class _Module:
    """A loaded node module and the node types it defines."""

    __slots__ = ("name", "module", "types")

    def __init__(self, name, module, types):
        self.name = name
        self.module = module
        self.types = types


# Loaded modules, oldest first.
_modules = []


def _module_name(filename):
    """A module name from a file name: ``nodes/vad.py`` -> ``vad``."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return stem[:-3] if stem.endswith(".py") else stem


def _param_default(default):
    # A default that cannot cross is left out of the description rather
    # than failing the whole listing.
    try:
        return values.from_py(default)
    except BaseException:
        return None


def _type_info(info):
    name, description, params, streaming = info
    return t.NodeTypeInfo(
        str(name),
        str(description),
        [
            t.ParamInfo(str(p), bool(required), None if required else _param_default(default), "")
            for p, required, default in params
        ],
        bool(streaming),
    )


# Lists and maps as marshal data, audio and arrays packed, and the packed
# blocks of outputs staged through stdout (see _nodehost_values._packed).
# Batches of plain inputs (scalars, text, bytes) as `process-packed`, one
# block of bytes each way (see _nodehost_packed), the rest as
# `process-batch`, where each value crosses in the form CPython reads
# fastest.
_FORMS = t.ValueForms(python_marshal=True, packed_buffers=True, staged_bytes=True, packed_batches=True)


class Runtime(exports.Runtime):
    def configure(self, settings):
        # As an embedded CPython has it: `argparse` and friends read
        # argv[0] (the runtime sets sys.argv from WASI's empty arguments
        # when the instance starts, so this cannot happen at build time).
        if not sys.argv:
            sys.argv = [""]
        State.max_outputs = settings.max_outputs
        on = bool(settings.interruptible)
        if on != State.interruptible:
            try:
                nodehost._set_interruptible(on, _nodehost.tick)
                State.interruptible = on
            except BaseException:
                pass
        # (componentize-py reseeds `random` itself at the first call into an
        # instance, so instances do not share the snapshot's random state.)
        # Lists and maps as marshal data, audio and arrays packed: CPython
        # reads each in one C call (see _nodehost_values).
        return _FORMS

    def prepare(self, modules):
        for name in modules:
            try:
                importlib.import_module(name)
            except BaseException as e:
                raise exception_error(K.LOAD, e)
        flush_io()
        gc.collect()

    def node_types(self):
        return [info for m in _modules for info in m.types]

    def load_module(self, name, source):
        module_name = _module_name(name)
        # Tracebacks show the node's source lines.
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        try:
            module, infos = nodehost._load(module_name, source, name)
        except BaseException as e:
            raise exception_error(K.LOAD, e)
        try:
            types = [_type_info(info) for info in infos]
        except BaseException as e:
            raise exception_error(K.INTERNAL, e)
        _modules[:] = [m for m in _modules if m.name != module_name]
        _modules.append(_Module(module_name, module, types))
        return types

    def create(self, type_name, params):
        try:
            kwargs = values.to_py(params)
        except values.Unsupported as e:
            raise error(K.UNSUPPORTED_VALUE, str(e))
        except BaseException as e:
            raise exception_error(K.INTERNAL, e)
        if kwargs is None:
            kwargs = {}
        elif not isinstance(kwargs, dict):
            raise error(K.INVALID_PARAMS, "parameters must be a map, got %s" % values.type_name(kwargs))
        if not _modules:
            raise error(K.UNKNOWN_TYPE, "no Python module is loaded")
        # The most recently loaded module that has the type; the last one
        # when none has it (or no type is named), which then says why not.
        module = _modules[-1].module
        if type_name:
            for m in reversed(_modules):
                if any(info.name == type_name for info in m.types):
                    module = m.module
                    break
        try:
            instance = nodehost._create(module, type_name, kwargs)
        except (nodehost._UnknownNodeType, nodehost._InvalidParams) as e:
            # The host's own checks: the message says it all.
            kind = K.UNKNOWN_TYPE if isinstance(e, nodehost._UnknownNodeType) else K.INVALID_PARAMS
            raise error(kind, str(e))
        except BaseException as e:
            raise runtime.raised(e)
        return runtime.Node(instance)
