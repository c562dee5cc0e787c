"""The pure-Python standard library, importable at run time.

componentize-py lets the app see the standard library only while it builds
the component (the interpreter is snapshotted right after importing the
app); the component has no files at run time, so a module first imported
by a node (``import json``) would not be found. This module reads the
standard library's sources at build time, keeps them zlib-compressed in the
snapshot, and serves them through a meta path finder placed before the
(empty) file system search. Modules are compiled when first imported.

Left out: what a node cannot use in this sandbox or only serves
development (tests, GUI, the REPL, pip bootstrapping, docs data).
"""

import os
import sys
import zlib
from importlib.machinery import ModuleSpec, PathFinder

# Directories (packages) and top-level modules not worth carrying.
_SKIP_DIRS = {
    "__pycache__", "site-packages", "test", "tests", "idlelib", "tkinter",
    "turtledemo", "ensurepip", "venv", "pydoc_data", "_pyrepl", "lib2to3",
    "lib-dynload", "__phello__",
}
_SKIP_MODULES = {"turtle", "antigravity", "this", "__hello__", "pydoc"}

# name -> (is_package, origin path, zlib-compressed source)
_sources = {}


def _collect(root):
    for directory, dirs, files in os.walk(root):
        rel = os.path.relpath(directory, root)
        parts = [] if rel == "." else rel.split(os.sep)
        if parts and not all(p.isidentifier() for p in parts):
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and d.isidentifier())
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            stem = f[:-3]
            if stem == "__init__":
                if not parts:
                    continue
                name, is_package = ".".join(parts), True
            elif stem.isidentifier():
                name, is_package = ".".join(parts + [stem]), False
            else:
                continue
            if name in sys.modules or (not parts and stem in _SKIP_MODULES):
                continue
            path = os.path.join(directory, f)
            try:
                with open(path, "rb") as fh:
                    source = fh.read()
            except OSError:
                continue
            _sources[name] = (is_package, path, zlib.compress(source, 6))


def _source(name):
    return zlib.decompress(_sources[name][2]).decode("utf-8")


class _Loader:
    """Runs a captured module's source in its module object."""

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        name = module.__spec__.name
        code = compile(_source(name), _sources[name][1], "exec", dont_inherit=True)
        exec(code, module.__dict__)

    @staticmethod
    def is_package(name):
        return _sources[name][0]

    @staticmethod
    def get_source(name):
        # For linecache: tracebacks through the standard library show code.
        return _source(name) if name in _sources else None


class Finder:
    """A meta path finder over the captured sources."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        entry = _sources.get(name)
        if entry is None:
            return None
        is_package, origin, _ = entry
        spec = ModuleSpec(name, _Loader, origin=origin, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def install(stdlib_dir):
    """Capture the sources under ``stdlib_dir`` (at build time) and put the
    finder before the file system search."""
    _collect(stdlib_dir)
    if Finder not in sys.meta_path:
        try:
            at = sys.meta_path.index(PathFinder)
        except ValueError:
            at = len(sys.meta_path)
        sys.meta_path.insert(at, Finder)


def captured():
    """How many modules were captured, and their compressed size in bytes."""
    return len(_sources), sum(len(s) for _, _, s in _sources.values())
