"""Small nodes that probe the Python runtimes' behaviour at the boundary."""

import array
import logging
import os

from nodehost import Array, AudioFrame

log = logging.getLogger("probe")


class Raiser:
    """Raises on "boom", passes anything else through."""

    def process(self, data):
        if data == "boom":
            return self.explode(data)
        return data

    def explode(self, data):
        raise ValueError("cannot process %r" % data)


class Returns:
    """Returns a value the boundary cannot carry, picked by name."""

    def process(self, kind):
        if kind == "set":
            return {1, 2}
        if kind == "object":
            return object()
        if kind == "lambda":
            return lambda: 1
        if kind == "bigint":
            return 2 ** 100
        if kind == "tuple-key":
            return {(1, 2): 3}
        if kind == "self-list":
            xs = [1]
            xs.append(xs)
            return xs
        if kind == "nested-ok":
            return {"a": (1, 2), "b": bytearray(b"xy")}
        return kind


class Logs:
    """Logs at several levels and prints."""

    def process(self, data):
        log.info("info from python: %s", data)
        log.warning("warning from python")
        log.debug("debug is below the default level")
        print("printed", data)
        return data


class Media:
    """Halves audio samples; doubles array data and reverses the shape."""

    def process(self, data):
        if isinstance(data, AudioFrame):
            assert isinstance(data.samples, array.array), type(data.samples)
            return AudioFrame(array.array("f", [s / 2 for s in data.samples]), data.sample_rate, data.channels)
        if isinstance(data, Array):
            return Array(array.array(data.data.typecode, [x * 2 for x in data.data]), tuple(reversed(data.shape)))
        if data == "make-audio":
            return AudioFrame([0.25, -0.5], sample_rate=8000, channels=2)
        if data == "make-array":
            return Array([1, 2, 3, 4, 5, 6], shape=(2, 3))
        return data


class SandboxProbe:
    """Tries something the sandbox should refuse and says what happened."""

    def process(self, what):
        try:
            if what == "open":
                with open("/etc/passwd") as f:
                    return "read: " + f.read(20)
            if what == "listdir":
                return "listed: %d entries" % len(os.listdir("/"))
            if what == "environ":
                return "environ: %d variables" % len(os.environ)
            if what == "write":
                with open("/tmp/nodehost-probe.txt", "w") as f:
                    f.write("x")
                return "wrote a file"
        except Exception as e:
            return "refused: " + type(e).__name__
        return "unknown probe"


class HugeRaiser:
    """Raises an exception with a 50 MB message on "huge"."""

    def process(self, data):
        if data == "huge":
            raise ValueError("v" * 50_000_000)
        return data


class BigInts:
    """Ints beyond 64 bits: "make" yields some made in Python, one by one
    and together in a list and a dict; anything else is described as
    Python sees it (its exact type, its hex and the int one above it)."""

    def process(self, data):
        import math

        if data == "make":
            made = [math.prod(range(1, 31)), 2 ** 64 - 1, -(2 ** 100), 10 ** 400, 7 ** 30000]
            yield from made
            yield made
            yield {"factorial": made[0], "small": 5}
            return
        yield {"type": type(data).__name__, "hex": hex(data), "next": data + 1}
