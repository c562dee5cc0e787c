"""Nodes returning the edge cases of the Python <-> value conversion, for
checking that every Python runtime converts (or refuses) them alike."""

import array
import collections
import enum

from nodehost import Array, AudioFrame


class Color(enum.IntEnum):
    RED = 3


class Huge(enum.IntEnum):
    BIG = 2 ** 70


class Ratio(float):
    pass


class Name(str):
    pass


class Silent(AudioFrame):
    """An audio frame whose samples cannot be read."""

    __slots__ = ()

    @property
    def samples(self):
        raise ValueError("no samples here")

    @samples.setter
    def samples(self, value):
        pass


def nested(levels):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


def reshaped(shape):
    a = Array(array.array("d", [1.0]))
    a.shape = shape
    return a


Point = collections.namedtuple("Point", "x y")

CASES = {
    # Arrays by typecode: integer items are read at their item size.
    "array-b": lambda: Array(array.array("b", [-128, 127])),
    "array-B": lambda: Array(array.array("B", [0, 255])),
    "array-h": lambda: Array(array.array("h", [-32768, 32767])),
    "array-H": lambda: Array(array.array("H", [65535])),
    "array-i": lambda: Array(array.array("i", [-2147483648, 2147483647])),
    "array-I": lambda: Array(array.array("I", [4294967295])),
    "array-l": lambda: Array(array.array("l", [-2147483648, 2147483647, -1])),
    "array-L": lambda: Array(array.array("L", [4294967295])),
    "array-q": lambda: Array(array.array("q", [-(2 ** 63), 2 ** 63 - 1])),
    "array-Q": lambda: Array(array.array("Q", [2 ** 63 - 1])),
    "array-Q-too-big": lambda: Array(array.array("Q", [2 ** 64 - 1])),
    "array-f": lambda: Array(array.array("f", [0.5, -2.0]), (2, 1)),
    "array-d": lambda: Array(array.array("d", [1e300])),
    "array-u": lambda: Array(array.array("u", "ab")),
    "array-dtype": lambda: [Array(array.array(c)).dtype for c in "fdbhilqBHILQ"],
    # Numbers from lists and tuples.
    "list-ints": lambda: Array([1, 2, 3]),
    "list-mixed": lambda: Array((1, 2.5)),
    "list-bools": lambda: Array([True, 2]),
    "list-empty": lambda: Array([]),
    "list-wide-int": lambda: Array([1.5, 2 ** 70]),
    "list-str": lambda: Array([1, "x"]),
    "data-str": lambda: Array("abc"),
    # Shapes.
    "shape-wrong": lambda: Array(array.array("d", [1, 2, 3]), (2, 2)),
    "shape-float": lambda: reshaped((1.0,)),
    "shape-negative": lambda: reshaped((-1,)),
    "shape-not-a-tuple": lambda: reshaped(1),
    # Audio frames.
    "audio-l": lambda: AudioFrame(array.array("l", [1, -2]), 8000, 2),
    "audio-d": lambda: AudioFrame(array.array("d", [0.5]), 16000, 1),
    "audio-channels-0": lambda: AudioFrame([0.0], 8000, 0),
    "audio-channels-bool": lambda: AudioFrame([0.0], 8000, True),
    "audio-channels-big": lambda: AudioFrame([0.0], 8000, 70000),
    "audio-rate-negative": lambda: AudioFrame([0.0], -1, 1),
    "audio-rate-float": lambda: AudioFrame([0.0], 8000.0, 1),
    "audio-odd-samples": lambda: AudioFrame([0.0, 1.0, 2.0], 8000, 2),
    "audio-raises": lambda: Silent([0.0], 8000, 1),
    # Scalars and their subclasses.
    "bool": lambda: [True, False],
    "int-enum": lambda: Color.RED,
    "float-subclass": lambda: Ratio(1.5),
    "str-subclass": lambda: Name("n"),
    "int-min": lambda: -(2 ** 63),
    "int-2**63": lambda: 2 ** 63,
    "int-negative-wide": lambda: -(2 ** 100),
    "int-enum-wide": lambda: Huge.BIG,
    "int-u64-max": lambda: 2 ** 64 - 1,
    "int-i64-min-minus-1": lambda: -(2 ** 63) - 1,
    "list-big-ints": lambda: [1, 2 ** 64, -(2 ** 70)],
    "dict-big-int": lambda: {"n": 10 ** 30},
    "str-surrogate": lambda: "a\ud800",
    # Containers.
    "tuple": lambda: (1, (2, "x")),
    "namedtuple": lambda: Point(1, 2),
    "bytearray": lambda: bytearray(b"xy"),
    "ordered-dict": lambda: collections.OrderedDict([("b", 1), ("a", 2)]),
    "default-dict": lambda: collections.defaultdict(list, {"k": [1]}),
    "key-int": lambda: {1: "x"},
    "key-surrogate": lambda: {"\udc80": 1},
    "deep-ok": lambda: nested(127),
    "deep-too": lambda: nested(128),
    # Not carried at all.
    "set": lambda: {1},
    "iterator": lambda: iter([1]),
    "frozenset-in-dict": lambda: {"a": [frozenset()]},
}


class Edges:
    """Returns the conversion edge case named by the input."""

    def process(self, case):
        return CASES[case]()


class Generators:
    """Generators: None items are skipped, and a generator stopped early
    (by a refused item or by the output limit) is closed."""

    closed = 0

    def process(self, case):
        if case == "closed":
            return Generators.closed
        return self.generate(case)

    def generate(self, case):
        try:
            yield 1
            yield None
            if case == "refused":
                yield {1, 2}
            if case == "endless":
                while True:
                    yield 2
            yield 3
        finally:
            Generators.closed += 1

    def flush(self):
        return {"flushed"}
