"""Standard-library checks: process(name) imports module `name`, runs a small
behaviour check and returns "ok", or the error as text. The same file runs on
every Python runtime."""

import traceback


def _json():
    import json
    doc = json.loads('{"a": [1, 2.5, null, true], "b": "\\u00e9"}')
    assert doc == {"a": [1, 2.5, None, True], "b": "\u00e9"}
    assert json.dumps({"x": [1, 2]}, sort_keys=True) == '{"x": [1, 2]}'


def _re():
    import re
    m = re.match(r"(\w+)-(\d+)", "node-42")
    assert m.groups() == ("node", "42")
    assert re.sub(r"\s+", " ", "a  b\t c") == "a b c"
    assert re.findall(r"\d", "a1b2") == ["1", "2"]


def _math():
    import math
    assert math.isclose(math.sqrt(2) ** 2, 2.0)
    assert math.floor(-1.5) == -2 and math.gcd(12, 18) == 6
    assert math.isinf(math.inf) and math.isnan(math.nan)


def _cmath():
    import cmath
    assert cmath.isclose(cmath.exp(1j * cmath.pi), -1)
    assert abs(cmath.sqrt(-4) - 2j) < 1e-12


def _statistics():
    import statistics
    assert statistics.mean([1, 2, 3, 4]) == 2.5
    assert statistics.median([3, 1, 2]) == 2
    assert abs(statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]) - 2.138089935299395) < 1e-12


def _collections():
    import collections
    c = collections.Counter("abracadabra")
    assert c.most_common(1) == [("a", 5)]
    d = collections.deque([1, 2, 3], maxlen=3)
    d.append(4)
    assert list(d) == [2, 3, 4]
    Point = collections.namedtuple("Point", "x y")
    assert Point(1, 2).y == 2
    assert list(collections.OrderedDict(b=1, a=2)) == ["b", "a"]
    dd = collections.defaultdict(list)
    dd["k"].append(1)
    assert dd == {"k": [1]}


def _dataclasses():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class P:
        x: int
        y: int = 3

    p = P(1)
    assert (p.x, p.y) == (1, 3)
    assert dataclasses.asdict(p) == {"x": 1, "y": 3}
    assert dataclasses.replace(p, y=5).y == 5


def _itertools():
    import itertools
    assert list(itertools.islice(itertools.count(5), 3)) == [5, 6, 7]
    assert list(itertools.chain([1], [2, 3])) == [1, 2, 3]
    assert len(list(itertools.combinations(range(5), 2))) == 10
    assert [k for k, _ in itertools.groupby("aabbc")] == ["a", "b", "c"]


def _functools():
    import functools
    assert functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]) == 24

    @functools.lru_cache(maxsize=None)
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    assert fib(30) == 832040
    assert functools.partial(pow, 2)(10) == 1024


def _operator():
    import operator
    assert operator.itemgetter(1)([5, 6]) == 6
    assert sorted([(1, "b"), (0, "a")], key=operator.itemgetter(0))[0] == (0, "a")
    assert operator.add(2, 3) == 5


def _typing():
    import typing
    T = typing.TypeVar("T")

    class Box(typing.Generic[T]):
        def __init__(self, v: T):
            self.v = v

    assert Box[int](3).v == 3
    assert typing.get_type_hints(_typing_hinted)["x"] is int
    assert typing.Optional[int] == typing.Union[int, None]


def _typing_hinted(x: int) -> str:
    return str(x)


def _enum():
    import enum

    class Color(enum.Enum):
        RED = 1
        GREEN = 2

    class Flags(enum.IntFlag):
        A = 1
        B = 2

    assert Color(2) is Color.GREEN and Color.RED.name == "RED"
    assert (Flags.A | Flags.B) == 3


def _abc():
    import abc

    class Base(abc.ABC):
        @abc.abstractmethod
        def f(self):
            ...

    class Impl(Base):
        def f(self):
            return 1

    try:
        Base()
    except TypeError:
        pass
    else:
        raise AssertionError("abstract class instantiated")
    assert Impl().f() == 1


def _struct():
    import struct
    packed = struct.pack("<hIf", -2, 7, 1.5)
    assert struct.unpack("<hIf", packed) == (-2, 7, 1.5)
    assert struct.calcsize("<hIf") == 10


def _array():
    import array
    a = array.array("f", [1.0, 2.0, 3.5])
    assert a.typecode == "f" and sum(a) == 6.5
    b = array.array("f")
    b.frombytes(a.tobytes())
    assert b == a


def _random():
    import random
    r = random.Random(42)
    xs = [r.random() for _ in range(3)]
    assert all(0 <= x < 1 for x in xs)
    assert random.Random(42).random() == xs[0]
    assert sorted(r.sample(range(10), 3)) != [] and r.choice([7]) == 7


def _datetime():
    import datetime
    d = datetime.datetime(2024, 2, 28, 12, 30) + datetime.timedelta(days=1)
    assert d.isoformat() == "2024-02-29T12:30:00"
    assert datetime.date(2024, 3, 1).weekday() == 4
    assert datetime.datetime.fromisoformat("2024-01-02T03:04:05").second == 5


def _time():
    import time
    t0 = time.monotonic()
    assert time.monotonic() >= t0
    assert time.time() > 1_600_000_000
    assert time.strftime("%Y", time.gmtime(0)) == "1970"


def _string():
    import string
    assert string.Template("$who likes $what").substitute(who="tim", what="pie") == "tim likes pie"
    assert "5" in string.digits and string.ascii_lowercase[0] == "a"


def _textwrap():
    import textwrap
    assert textwrap.wrap("the quick brown fox", width=10) == ["the quick", "brown fox"]
    assert textwrap.dedent("  a\n  b") == "a\nb"


def _heapq():
    import heapq
    h = [5, 1, 4]
    heapq.heapify(h)
    assert heapq.heappop(h) == 1
    assert heapq.nlargest(2, [3, 9, 1, 7]) == [9, 7]


def _bisect():
    import bisect
    xs = [1, 3, 5]
    bisect.insort(xs, 4)
    assert xs == [1, 3, 4, 5] and bisect.bisect_left(xs, 3) == 1


def _copy():
    import copy
    a = {"x": [1, [2]]}
    b = copy.deepcopy(a)
    b["x"][1].append(3)
    assert a == {"x": [1, [2]]}
    assert copy.copy([1, 2]) == [1, 2]


def _decimal():
    import decimal
    assert decimal.Decimal("0.1") + decimal.Decimal("0.2") == decimal.Decimal("0.3")
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        assert str(decimal.Decimal(1) / decimal.Decimal(7)) == "0.14286"


def _fractions():
    import fractions
    assert fractions.Fraction(1, 3) + fractions.Fraction(1, 6) == fractions.Fraction(1, 2)
    assert fractions.Fraction("0.25") == fractions.Fraction(1, 4)


def _base64():
    import base64
    assert base64.b64encode(b"nodehost") == b"bm9kZWhvc3Q="
    assert base64.b64decode("bm9kZWhvc3Q=") == b"nodehost"
    assert base64.urlsafe_b64encode(b"\xff\xfe") == b"__4="


def _hashlib():
    import hashlib
    assert hashlib.sha256(b"abc").hexdigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hashlib.md5(b"").hexdigest() == "d41d8cd98f00b204e9800998ecf8427e"
    assert hashlib.sha1(b"abc").hexdigest() == "a9993e364706816aba3e25717850c26c9cd0d89d"


CHECKS = {
    name[1:]: check for name, check in globals().items()
    if name.startswith("_") and not name.startswith("__") and callable(check) and name != "_typing_hinted"
}


class StdlibCheck:
    """process(name): "ok" when module `name` imports and behaves, else the error."""

    def process(self, name):
        check = CHECKS.get(name)
        if check is None:
            return "no check for " + name
        try:
            check()
        except BaseException:
            return traceback.format_exc().strip().splitlines()[-1]
        return "ok"
