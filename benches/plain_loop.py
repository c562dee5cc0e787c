"""A pipeline's Python node classes as a CPython user would run them
without nodehost: created (and initialized) once, then called in sequence
on one thread for each item (a generator's items go on one by one; None gives nothing). The
single-thread CPython baseline of the report's pipeline/ scenarios.

    python3 plain_loop.py SPEC.json ITEMS

SPEC.json: [{"file": path, "class": name or null, "params": {...}}, ...].
Prints the items per second of the loop (after creating the nodes and
one warm-up item), as the pipeline scenarios time theirs.
"""

import importlib.util
import json
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest-python", "python"))


def load(entry, index):
    spec = importlib.util.spec_from_file_location("node%d" % index, entry["file"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if entry.get("class"):
        cls = getattr(module, entry["class"])
    else:
        classes = [c for c in vars(module).values()
                   if isinstance(c, type) and c.__module__ == module.__name__ and callable(getattr(c, "process", None))]
        if len(classes) != 1:
            raise SystemExit("%s: name the class (it has %d)" % (entry["file"], len(classes)))
        cls = classes[0]
    node = cls(**(entry.get("params") or {}))
    # The lifecycle hook nodehost calls after creating a node.
    if callable(getattr(node, "initialize", None)):
        node.initialize()
    return node


def main():
    with open(sys.argv[1]) as f:
        entries = json.load(f)
    items = int(sys.argv[2])
    nodes = [load(e, i) for i, e in enumerate(entries)]
    generator = types.GeneratorType

    def run(item):
        values = [item]
        for node in nodes:
            out = []
            for value in values:
                result = node.process(value)
                if isinstance(result, generator):
                    out.extend(result)
                elif result is not None:
                    out.append(result)
            values = out
        return len(values)

    run(0)
    started = time.perf_counter()
    for item in range(items):
        run(item)
    elapsed = time.perf_counter() - started
    print(items / elapsed)


if __name__ == "__main__":
    main()
