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


# Modules beyond the ones every runtime must pass (`nodehost compat` reports
# them all; the sandbox is expected to refuse files, processes and sockets).

def _csv():
    import csv, io
    rows = list(csv.reader(io.StringIO("a,b\n1,\"x,y\"\n")))
    assert rows == [["a", "b"], ["1", "x,y"]]


def _io():
    import io
    b = io.BytesIO()
    b.write(b"abc")
    assert b.getvalue() == b"abc" and io.StringIO("x\ny").readlines() == ["x\n", "y"]


def _uuid():
    import uuid
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert u.hex == "12345678123456781234567812345678" and uuid.uuid4().version == 4


def _zlib():
    import zlib
    data = b"node" * 100
    assert zlib.decompress(zlib.compress(data)) == data and zlib.crc32(b"abc") == 891568578


def _gzip():
    import gzip
    assert gzip.decompress(gzip.compress(b"hello")) == b"hello"


def _hmac():
    import hmac, hashlib
    assert hmac.new(b"key", b"msg", hashlib.sha256).hexdigest().startswith("2d93cbc1")


def _secrets():
    import secrets
    assert len(secrets.token_hex(8)) == 16


def _pprint():
    import pprint
    assert pprint.pformat({"b": 1, "a": [1, 2]}) == "{'a': [1, 2], 'b': 1}"


def _difflib():
    import difflib
    assert difflib.SequenceMatcher(None, "abcd", "abed").ratio() == 0.75


def _unicodedata():
    import unicodedata
    assert unicodedata.name("é") == "LATIN SMALL LETTER E WITH ACUTE"
    assert unicodedata.normalize("NFD", "é") == "e\u0301"


def _html():
    import html
    assert html.escape("<a&b>") == "&lt;a&amp;b&gt;" and html.unescape("&lt;") == "<"


def _urllib_parse():
    import urllib.parse as up
    u = up.urlparse("https://example.com/a/b?x=1&y=2#f")
    assert u.netloc == "example.com" and up.parse_qs(u.query) == {"x": ["1"], "y": ["2"]}
    assert up.quote("a b/c") == "a%20b/c"


def _ipaddress():
    import ipaddress
    net = ipaddress.ip_network("10.0.0.0/30")
    assert [str(h) for h in net.hosts()] == ["10.0.0.1", "10.0.0.2"]


def _contextlib():
    import contextlib
    with contextlib.suppress(KeyError):
        {}["x"]
    log = []

    @contextlib.contextmanager
    def cm():
        log.append("in")
        yield
        log.append("out")

    with cm():
        pass
    assert log == ["in", "out"]


def _types():
    import types
    ns = types.SimpleNamespace(a=1)
    assert ns.a == 1 and isinstance(_types, types.FunctionType)


def _weakref():
    import weakref

    class C:
        pass

    c = C()
    r = weakref.ref(c)
    assert r() is c


def _inspect():
    import inspect

    def f(a, b=2, *, c):
        pass

    assert list(inspect.signature(f).parameters) == ["a", "b", "c"]


def _warnings():
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("careful")
    assert len(caught) == 1 and "careful" in str(caught[0].message)


def _logging():
    import logging
    logging.getLogger("compat").info("compat check")


def _numbers():
    import numbers
    assert isinstance(3, numbers.Integral) and isinstance(2.5, numbers.Real)


def _shlex():
    import shlex
    assert shlex.split("a 'b c' d") == ["a", "b c", "d"]


def _fnmatch():
    import fnmatch
    assert fnmatch.fnmatch("node.py", "*.py") and not fnmatch.fnmatch("node.rs", "*.py")


def _calendar():
    import calendar
    assert calendar.isleap(2024) and calendar.monthrange(2023, 2) == (2, 28)


def _codecs():
    import codecs
    assert codecs.encode("abc", "rot13") == "nop" and codecs.decode(b"\xc3\xa9", "utf-8") == "é"


def _binascii():
    import binascii
    assert binascii.hexlify(b"\x01\xff") == b"01ff"


def _pickle():
    import pickle
    data = {"a": [1, 2.5, "x"], "b": (1, 2)}
    assert pickle.loads(pickle.dumps(data)) == data


def _graphlib():
    import graphlib
    order = list(graphlib.TopologicalSorter({"b": {"a"}, "c": {"b"}}).static_order())
    assert order == ["a", "b", "c"]


def _queue():
    import queue
    q = queue.PriorityQueue()
    for x in (3, 1, 2):
        q.put(x)
    assert [q.get() for _ in range(3)] == [1, 2, 3]


def _tomllib():
    import tomllib
    assert tomllib.loads('a = 1\n[b]\nc = "x"') == {"a": 1, "b": {"c": "x"}}


def _xml_etree():
    import xml.etree.ElementTree as ET
    root = ET.fromstring("<a><b x='1'>t</b></a>")
    assert root.find("b").get("x") == "1" and root.find("b").text == "t"


def _email():
    import email
    msg = email.message_from_string("Subject: hi\nFrom: a@b.c\n\nbody")
    assert msg["Subject"] == "hi" and msg.get_payload() == "body"


def _argparse():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1)
    assert p.parse_args(["--n", "3"]).n == 3


def _configparser():
    import configparser
    c = configparser.ConfigParser()
    c.read_string("[s]\nk = v\n")
    assert c["s"]["k"] == "v"


def _colorsys():
    import colorsys
    assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)


def _zoneinfo():
    import zoneinfo, datetime
    tz = zoneinfo.ZoneInfo("Europe/Paris")
    assert datetime.datetime(2024, 7, 1, tzinfo=tz).utcoffset() == datetime.timedelta(hours=2)


def _threading():
    import threading
    out = []
    t = threading.Thread(target=lambda: out.append(1))
    t.start()
    t.join()
    assert out == [1]


def _asyncio():
    import asyncio

    async def twice(x):
        await asyncio.sleep(0)
        return 2 * x

    assert asyncio.run(twice(21)) == 42


def _sqlite3():
    import sqlite3
    con = sqlite3.connect(":memory:")
    con.execute("create table t (x)")
    con.execute("insert into t values (5)")
    assert con.execute("select x from t").fetchone() == (5,)


def _os():
    import os
    assert isinstance(os.environ, os._Environ if hasattr(os, "_Environ") else object)
    assert os.getcwd() is not None


def _tempfile():
    import tempfile, os
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "f.txt"), "w") as f:
            f.write("x")


def _subprocess():
    import subprocess
    assert subprocess.run(["true"]).returncode == 0


def _socket():
    import socket
    socket.create_connection(("example.com", 80), timeout=1).close()


CHECKS = {
    name[1:]: check for name, check in globals().items()
    if name.startswith("_") and not name.startswith("__") and callable(check) and name != "_typing_hinted"
}


class StdlibCheck:
    """process(name): "ok" when module `name` imports and behaves, else the
    error; process("*") lists every check."""

    def process(self, name):
        if name == "*":
            return list(CHECKS)
        check = CHECKS.get(name)
        if check is None:
            return "no check for " + name
        try:
            check()
        except BaseException:
            return traceback.format_exc().strip().splitlines()[-1]
        return "ok"
