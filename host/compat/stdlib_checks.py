"""Standard-library checks: process(name) imports module `name`, runs a small
behaviour check and returns what it observed (the repr of the check's
result), or "error: " and the exception. The same file runs on every Python
runtime, and `nodehost compat` compares each runtime's text with CPython's
(`expected.json`, written by running this file with CPython:
`python3 host/compat/stdlib_checks.py > host/compat/expected.json`), so a
module that imports but behaves differently fails.

A check returns only what every correct Python gives alike: no paths, times,
addresses, random draws without a seed or set orders, and plain types rather
than reprs that changed between Python versions."""

import traceback


def _json():
    import json
    doc = json.loads('{"a": [1, 2.5, null, true], "b": "\\u00e9", "c": 1e400}')
    return [doc, json.dumps({"x": [1, 2], "y": "\u00e9"}, sort_keys=True), json.dumps([1.0, 0.1, float("inf")]),
            json.dumps({"a": {"b": 1}}, indent=2), json.dumps("\u00e9", ensure_ascii=False)]


def _json_decoder():
    # What a node reporting a bad input line says: the decoder's refusals,
    # in CPython 3.11's words and at its positions.
    import json
    out = []
    for doc in ['{"a": 1,}', '[1, 2, ]', '{"a":1,"b":2,}', '[1,\n  ]', '"a\tb"', '"a\\xb"', '{"a" 1}', '[1 2]',
                '', '{"a": 1} x', '"abc', '[1,,2]', '{,}', '"\\u12"', '[tru]']:
        try:
            json.loads(doc)
        except json.JSONDecodeError as e:
            out.append([str(e), e.msg, e.pos, e.lineno, e.colno])
    return out


def _json_encoder():
    # A float `allow_nan=False` forbids, refused in CPython 3.11's words
    # (its C encoder's for `dumps`, its Python encoder's for `dump` and
    # `indent`).
    import io
    import json
    out = []
    for value in [float("nan"), [1, float("-inf")]]:
        for encode in [lambda: json.dumps(value, allow_nan=False), lambda: json.dump(value, io.StringIO(), allow_nan=False),
                       lambda: json.dumps(value, allow_nan=False, indent=1)]:
            try:
                encode()
            except ValueError as e:
                out.append(str(e))
    return out


def _re():
    import re
    m = re.match(r"(?P<word>\w+)-(\d+)", "node-42")
    return [m.groups(), m.groupdict(), m.span(2), re.sub(r"\s+", " ", "a  b\t c"), re.findall(r"\d", "a1b2"),
            re.split(r"[,;]\s*", "a, b;c"), re.sub(r"(\w)(\d)", r"\2\1", "a1 b2"),
            bool(re.fullmatch(r"[a-f0-9]{4}", "beef")), re.escape("a.b*c"),
            [m.group() for m in re.finditer(r"(?i)ab+", "AB abbb aB")]]



def _re_bounds():
    # A match's pos and endpos are the bounds its search was given (clamped
    # to the string), not its own span: from match, search and fullmatch,
    # from finditer and a scanner (the position the scan began at), and in
    # the function re.sub calls.
    import re
    p = re.compile(r"\d+")

    def bounds(m):
        return None if m is None else (m.pos, m.endpos, m.span())

    return [bounds(re.match(r"\d+", "12ab")), bounds(p.search("ab12cd", 1)), bounds(p.search("ab12cd", 1, 100)),
            bounds(p.match("ab12cd", 2, 4)), bounds(p.fullmatch("ab12cd", 2, 4)), [bounds(m) for m in p.finditer("1a22b333", 1, 7)],
            bounds(p.scanner("a1b2", 1).search()), bounds(p.scanner("a1b2", 1).match()), bounds(p.scanner("1b2", 0).match()),
            re.sub(r"\d", lambda m: "<%d:%d:%d>" % (m.pos, m.endpos, m.start()), "a1b2"),
            bounds(re.search("$", "abc")), bounds(p.search("12", 5))]

def _math():
    import math
    return [math.sqrt(2), math.floor(-1.5), math.gcd(12, 18), math.isinf(math.inf), math.isnan(math.nan),
            math.factorial(20), math.comb(10, 3), math.log(1000, 10), math.atan2(1, 1), math.fsum([0.1] * 10),
            math.prod([1, 2, 3, 4]), math.isqrt(10**20 + 1), math.copysign(1, -0.0), math.hypot(3, 4),
            round(2.5), round(3.5), round(1.23456, 3), math.trunc(-2.7), math.ldexp(1.5, 3)]


def _cmath():
    import cmath
    return [cmath.isclose(cmath.exp(1j * cmath.pi), -1), cmath.sqrt(-4), cmath.polar(1j), abs(3 + 4j)]


def _statistics():
    import statistics
    return [statistics.mean([1, 2, 3, 4]), statistics.median([3, 1, 2]), statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]),
            statistics.mode([1, 2, 2, 3]), statistics.pvariance([1, 2, 3, 4]), statistics.median_low([1, 2, 3, 4]),
            statistics.quantiles([1, 2, 3, 4, 5, 6, 7, 8], n=4), statistics.fmean([1, 2, 4])]


def _collections():
    import collections
    c = collections.Counter("abracadabra")
    d = collections.deque([1, 2, 3], maxlen=3)
    d.append(4)
    d.rotate(1)
    Point = collections.namedtuple("Point", "x y")
    dd = collections.defaultdict(list)
    dd["k"].append(1)
    od = collections.OrderedDict(b=1, a=2)
    od.move_to_end("b")
    chain = collections.ChainMap({"a": 1}, {"a": 2, "b": 3})
    return [c.most_common(2), sorted(c.items()), list(d), Point(1, 2), Point(1, 2)._asdict(), dict(dd), list(od),
            chain["a"], chain["b"], (c + collections.Counter("aab"))["a"]]


def _dataclasses():
    import dataclasses

    @dataclasses.dataclass(frozen=True, order=True)
    class P:
        x: int
        y: int = 3
        tags: list = dataclasses.field(default_factory=list, compare=False)

    p = P(1)
    try:
        p.x = 5
        frozen = "assigned"
    except dataclasses.FrozenInstanceError:
        frozen = "frozen"
    return [repr(p).split(".")[-1], dataclasses.asdict(p), dataclasses.replace(p, y=5).y, P(1, 2) < P(1, 3),
            [f.name for f in dataclasses.fields(P)], frozen, dataclasses.astuple(P(2, 4))]


def _itertools():
    import itertools
    return [list(itertools.islice(itertools.count(5), 3)), list(itertools.chain([1], [2, 3])),
            list(itertools.combinations(range(4), 2)), [(k, len(list(g))) for k, g in itertools.groupby("aabbbc")],
            list(itertools.accumulate([1, 2, 3, 4])), list(itertools.product("ab", repeat=2)),
            list(itertools.permutations([1, 2, 3], 2))[:4], list(itertools.zip_longest([1, 2], "a", fillvalue=0)),
            list(itertools.starmap(pow, [(2, 3), (3, 2)])), list(itertools.pairwise("abc"))]


def _functools():
    import functools

    @functools.lru_cache(maxsize=None)
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    @functools.singledispatch
    def kind(x):
        return "other"

    @kind.register
    def _(x: int):
        return "int"

    return [functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]), fib(80), fib.cache_info().hits,
            functools.partial(pow, 2)(10), kind(1), kind("s"),
            sorted([3, 1, 2], key=functools.cmp_to_key(lambda a, b: b - a))]


def _operator():
    import operator
    return [operator.itemgetter(1, 0)([5, 6]), sorted([(1, "b"), (0, "a")], key=operator.itemgetter(0)),
            operator.add(2, 3), operator.attrgetter("real")(3 + 4j), operator.methodcaller("upper")("x"),
            operator.floordiv(-7, 2), operator.mod(-7, 2)]


def _typing():
    import typing
    T = typing.TypeVar("T")

    class Box(typing.Generic[T]):
        def __init__(self, v: T):
            self.v = v

    class TD(typing.TypedDict):
        a: int

    class NT(typing.NamedTuple):
        x: int
        y: str = "z"

    return [Box[int](3).v, typing.get_type_hints(_typing_hinted), typing.Optional[int] == typing.Union[int, None],
            typing.get_origin(typing.List[int]) is list, typing.get_args(typing.Dict[str, int]) == (str, int),
            TD(a=1), NT(1), typing.cast(int, "x")]


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

    class Auto(enum.Enum):
        X = enum.auto()
        Y = enum.auto()

    return [Color(2).name, Color["RED"].value, [c.name for c in Color], int(Flags.A | Flags.B),
            Flags.A in (Flags.A | Flags.B), Auto.Y.value, Color.RED is Color(1), len(Color)]


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
        abstract = "instantiated"
    except TypeError:
        abstract = "TypeError"
    return [abstract, Impl().f(), isinstance(Impl(), Base), sorted(Base.__abstractmethods__)]


def _struct():
    import struct
    packed = struct.pack("<hIf", -2, 7, 1.5)
    return [packed, struct.unpack("<hIf", packed), struct.calcsize("<hIf"), struct.calcsize("@hI"),
            struct.pack(">Q", 2**64 - 1), struct.unpack("<d", struct.pack("<d", 0.1)), struct.pack("3s", b"abcdef")]


def _struct_refusals():
    # An int out of its format's range, or too few items, in CPython 3.11's
    # words.
    import struct
    refusals = []
    for fmt, args in [("<2i", (1,)), ("<h", (40000,)), ("b", (200,)), ("<B", (-1,)), ("<H", (70000,)),
                      ("<I", (-1,)), ("<I", (2**32,)), ("<i", (2**31,)), ("<q", (2**63,)), ("<Q", (-1,)),
                      ("l", (2**63,))]:
        try:
            struct.pack(fmt, *args)
            refusals.append("packed")
        except struct.error as e:
            refusals.append(str(e))
    return refusals


def _array():
    import array
    a = array.array("f", [1.0, 2.0, 3.5])
    b = array.array("f")
    b.frombytes(a.tobytes())
    q = array.array("q", [1, -2, 3])
    q.reverse()
    return [a.typecode, sum(a), b == a, a.itemsize, q.tolist(), array.array("d", [0.1]).tobytes(), list(a[1:]),
            array.typecodes]



def _array_items():
    # The native long formats hold 64-bit values (as on the 64-bit Linux
    # CPython runs on), and an item an array cannot hold is refused in
    # CPython 3.11's words, whichever way it arrives (the initializer,
    # append, item assignment, insert, extend, fromlist).
    import array
    big = array.array("l", [2**40, -2**40])
    out = [array.array("l").itemsize, array.array("L").itemsize, big.tolist(), len(big.tobytes()),
           array.array("L", [2**64 - 1]).tolist()]
    for code in "bBhHiIlLqQ":
        for value in (2**70, 2**40, 2**20, 300, -1, -300, -2**20, -2**40):
            try:
                array.array(code, [value])
                out.append("ok")
            except OverflowError as e:
                out.append(code + ": " + str(e))
    a = array.array("h", [1, 2])
    for change in (lambda: a.append(40000), lambda: a.__setitem__(0, -40000), lambda: a.insert(0, 2**70),
                   lambda: a.extend([3, 70000]), lambda: a.fromlist([4, -70000]), lambda: array.array("u", [1]),
                   lambda: array.array("u", ["ab"]), lambda: a.fromlist([5, "x", 70000])):
        try:
            change()
            out.append("ok")
        except (OverflowError, TypeError) as e:
            out.append(type(e).__name__ + ": " + str(e))
    return out + [a.tolist()]

def _random():
    import random
    r = random.Random(42)
    xs = [r.random() for _ in range(3)]
    ys = list(range(10))
    r.shuffle(ys)
    return [xs, r.randint(1, 100), r.choice("abcdef"), ys, r.sample(range(100), 3), r.uniform(1, 2),
            r.getrandbits(70), random.Random("seed").random(), 0 <= random.random() < 1]


def _datetime():
    import datetime
    d = datetime.datetime(2024, 2, 28, 12, 30) + datetime.timedelta(days=1)
    tz = datetime.timezone(datetime.timedelta(hours=-5), "EST")
    return [d.isoformat(), datetime.date(2024, 3, 1).weekday(), datetime.datetime.fromisoformat("2024-01-02T03:04:05"),
            d.strftime("%Y-%m-%d %H:%M %a %b %j"), datetime.datetime(2024, 1, 1, tzinfo=tz).astimezone(datetime.timezone.utc),
            datetime.datetime.strptime("2024-05-06 07:08", "%Y-%m-%d %H:%M"), datetime.timedelta(days=-1, seconds=5),
            datetime.date(2024, 12, 31).isocalendar()[:], datetime.datetime.fromtimestamp(0, datetime.timezone.utc),
            datetime.date(5, 1, 1).strftime("%Y|%G|%F|%C|%d"), datetime.datetime(999, 12, 31).strftime("%Y %F")]


def _time():
    import time
    t0 = time.monotonic()
    return [time.monotonic() >= t0, time.time() > 1_600_000_000, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(86400 * 365)),
            tuple(time.gmtime(0))[:6], time.mktime(time.gmtime(0)) == time.mktime(time.gmtime(0)),
            time.strptime("2024-03-04", "%Y-%m-%d")[:3]]


def _string():
    import string
    return [string.Template("$who likes $what").substitute(who="tim", what="pie"), string.digits,
            string.ascii_lowercase, string.capwords("hello  world"), string.Formatter().format("{0:>5}|{x:.2f}", "a", x=1.5),
            "{:,.2f} {:08.3f} {:x} {:e} {!r}".format(1234567.891, -3.14159, 255, 12345.678, "s"), f"{0.1 + 0.2}"]


def _textwrap():
    import textwrap
    return [textwrap.wrap("the quick brown fox jumps over", width=10), textwrap.dedent("  a\n    b"),
            textwrap.fill("a b c d e f", width=5), textwrap.indent("x\ny", "> "), textwrap.shorten("hello big world", 12)]


def _heapq():
    import heapq
    h = [5, 1, 4, 2]
    heapq.heapify(h)
    first = heapq.heappop(h)
    return [first, heapq.nlargest(2, [3, 9, 1, 7]), heapq.nsmallest(2, [3, 9, 1, 7]), list(heapq.merge([1, 4], [2, 3])),
            heapq.heappushpop(h, 0)]


def _bisect():
    import bisect
    xs = [1, 3, 5]
    bisect.insort(xs, 4)
    return [xs, bisect.bisect_left(xs, 3), bisect.bisect_right(xs, 3), bisect.bisect(xs, 10)]


def _copy():
    import copy
    a = {"x": [1, [2]]}
    b = copy.deepcopy(a)
    b["x"][1].append(3)
    c = copy.copy(a)
    return [a, b, c["x"] is a["x"]]


def _decimal():
    import decimal
    D = decimal.Decimal
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        seventh = D(1) / D(7)
    return [D("0.1") + D("0.2"), seventh, D("1.005").quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP),
            D("2").sqrt(), D(0.1), D("1e3").normalize(), str(D("-0")), D("10") ** -2]


def _decimal_texts():
    # A context's repr (its signals in the C module's order), the refusals
    # of int() and round() of NaN and infinity, and the 64-bit limits.
    import decimal
    import math
    D = decimal.Decimal
    ctx = decimal.Context(traps=[decimal.Inexact, decimal.Overflow, decimal.InvalidOperation],
                          flags=[decimal.Rounded, decimal.Clamped])
    out = [repr(decimal.Context()), repr(ctx), decimal.MAX_PREC, decimal.MAX_EMAX, decimal.MIN_EMIN,
           decimal.MIN_ETINY]
    for text in ["NaN", "sNaN", "Infinity", "-Infinity"]:
        for f in (int, round, math.floor, float):
            try:
                out.append(repr(f(D(text))))
            except (ValueError, OverflowError) as e:
                out.append("%s: %s" % (type(e).__name__, e))
    return out


def _fractions():
    import fractions
    F = fractions.Fraction
    return [F(1, 3) + F(1, 6), F("0.25"), F(0.1).limit_denominator(100), F(3, 4) ** 2, float(F(1, 8)), str(F(-6, 4))]


def _base64():
    import base64
    return [base64.b64encode(b"nodehost"), base64.b64decode("bm9kZWhvc3Q="), base64.urlsafe_b64encode(b"\xff\xfe"),
            base64.b32encode(b"ab"), base64.b16decode("4142"), base64.a85encode(b"hello")]


def _hashlib():
    import hashlib
    return [hashlib.sha256(b"abc").hexdigest(), hashlib.md5(b"").hexdigest(), hashlib.sha1(b"abc").hexdigest(),
            hashlib.sha512(b"abc").hexdigest()[:32], hashlib.blake2b(b"abc").hexdigest()[:32],
            hashlib.sha3_256(b"abc").hexdigest(), hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 10).hex()]


# Modules beyond the ones every runtime must pass (`nodehost compat` reports
# them all; the sandbox is expected to refuse processes and sockets).

def _csv():
    import csv, io
    rows = list(csv.reader(io.StringIO("a,b\n1,\"x,y\"\n")))
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=["k", "v"], lineterminator="\n")
    w.writeheader()
    w.writerow({"k": "q\"uote", "v": 1})
    return [rows, out.getvalue(), list(csv.DictReader(io.StringIO("a;b\n1;2\n"), delimiter=";"))]


def _io():
    import io
    b = io.BytesIO()
    b.write(b"abc")
    b.seek(1)
    t = io.TextIOWrapper(io.BytesIO("é\nx".encode("utf-8")), encoding="utf-8")
    return [b.getvalue(), b.read(), io.StringIO("x\ny").readlines(), t.read(), io.BytesIO(b"12345").read(2)]


def _uuid():
    import uuid
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    return [u.hex, str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com")), str(uuid.uuid3(uuid.NAMESPACE_URL, "x")),
            uuid.uuid4().version, u.int]


def _zlib():
    import zlib
    data = b"node" * 100
    return [zlib.decompress(zlib.compress(data)) == data, zlib.crc32(b"abc"), zlib.adler32(b"abc"),
            zlib.compress(b"hello", 9), zlib.decompress(zlib.compress(b"x" * 10, wbits=-15), wbits=-15)]


def _gzip():
    import gzip
    return [gzip.decompress(gzip.compress(b"hello")), gzip.decompress(gzip.compress(b"a" * 1000, mtime=0))[:3]]


def _hmac():
    import hmac, hashlib
    return [hmac.new(b"key", b"msg", hashlib.sha256).hexdigest(), hmac.compare_digest(b"a", b"a"),
            hmac.digest(b"k", b"m", "sha1").hex()]


def _secrets():
    import secrets
    return [len(secrets.token_hex(8)), len(secrets.token_bytes(5)), secrets.choice([7]), 0 <= secrets.randbelow(10) < 10]


def _pprint():
    import pprint
    return [pprint.pformat({"b": 1, "a": [1, 2]}), pprint.pformat(list(range(30)), width=40, compact=True),
            pprint.pformat({"k": {"n": [1, {"d": 2}]}}, depth=2)]


def _difflib():
    import difflib
    return [difflib.SequenceMatcher(None, "abcd", "abed").ratio(), difflib.get_close_matches("appel", ["ape", "apple", "peach"]),
            list(difflib.unified_diff(["a\n", "b\n"], ["a\n", "c\n"], "x", "y"))]


def _unicodedata():
    import unicodedata
    return [unicodedata.name("é"), unicodedata.normalize("NFD", "é"), unicodedata.category("A"),
            unicodedata.numeric("½"), unicodedata.normalize("NFKC", "ﬁ"), unicodedata.lookup("SNOWMAN")]


def _html():
    import html
    return [html.escape("<a&b \"c\">"), html.unescape("&lt;&eacute;&#x41;&amp;"), html.escape("'", quote=False)]


def _urllib_parse():
    import urllib.parse as up
    u = up.urlparse("https://user@example.com:8080/a/b;p?x=1&y=2&x=3#f")
    return [tuple(u), u.port, u.hostname, up.parse_qs(u.query), up.parse_qsl(u.query), up.quote("a b/c&é"),
            up.unquote_plus("a+b%20c"), up.urlencode({"q": "a b", "n": 1}), up.urljoin("http://h/a/b", "../c")]


def _ipaddress():
    import ipaddress
    net = ipaddress.ip_network("10.0.0.0/30")
    return [[str(h) for h in net.hosts()], str(ipaddress.ip_address("::1")), ipaddress.ip_address("192.168.1.1").is_private,
            str(ipaddress.ip_interface("10.1.2.3/24").network), int(ipaddress.IPv4Address("1.2.3.4"))]


def _contextlib():
    import contextlib
    with contextlib.suppress(KeyError):
        {}["x"]
    log = []

    @contextlib.contextmanager
    def cm():
        log.append("in")
        try:
            yield 5
        finally:
            log.append("out")

    with cm() as v:
        log.append(v)
    with contextlib.ExitStack() as stack:
        stack.callback(log.append, "cb")
    return log


def _types():
    import types
    ns = types.SimpleNamespace(a=1)
    return [repr(ns), isinstance(_types, types.FunctionType), types.MappingProxyType({"k": 1})["k"],
            type(types.new_class("N")).__name__]


def _reprs():
    # Objects' texts as CPython 3.11 writes them, where RustPython's
    # (3.12-3.14's, or its own) differed.
    import collections
    import re
    import types
    od = collections.OrderedDict(b=1, a=2)
    od.move_to_end("b")
    return [repr(od), repr(collections.OrderedDict()), repr(re.match(".+", "x" * 60)),
            repr(re.search(r"b+", "abbbc")), str(types.MappingProxyType({"k": 1})),
            repr(types.MappingProxyType({"k": 1})), repr(od.keys()), repr(od.values()), repr(od.items()),
            repr(collections.OrderedDict().keys())]


def _recursion():
    # Recursion in native code counts against the recursion limit, as in
    # CPython 3.11: repr, json and pickle of a list nested 5,000 deep raise
    # RecursionError with CPython's words, so do == and a nested dict's repr,
    # and json.loads of arrays or objects 5,000 deep; 200 deep works.
    import json
    import pickle

    def nested(depth):
        x = []
        for _ in range(depth):
            x = [x]
        return x

    def outcome(f, x):
        try:
            f(x)
            return "ok"
        except RecursionError as e:
            return str(e)

    shallow, deep, other = nested(200), nested(5000), nested(5000)
    d = {}
    for _ in range(5000):
        d = {"k": d}
    out = [len(repr(shallow)), len(json.dumps(shallow)), pickle.loads(pickle.dumps(shallow)) == shallow]
    for f in (repr, str, json.dumps, pickle.dumps, lambda x: x == other):
        out.append(outcome(f, deep))
    out.append(outcome(repr, d))
    out.append(outcome(json.dumps, d))
    # Decoding says which container it was in: an array, an object.
    out.append(outcome(json.loads, "[" * 5000 + "]" * 5000))
    out.append(outcome(json.loads, '{"k": ' * 5000 + "1" + "}" * 5000))
    out.append(json.loads("[" * 200 + "]" * 200) == nested(199))
    return out


def _weakref():
    import weakref

    class C:
        pass

    c = C()
    r = weakref.ref(c)
    d = weakref.WeakValueDictionary()
    d["k"] = c
    alive = r() is c
    return [alive, len(d), list(d.keys())]


def _inspect():
    import inspect

    def f(a, b=2, *args, c, d=4, **kw):
        pass

    return [str(inspect.signature(f)), list(inspect.signature(f).parameters), inspect.isfunction(f),
            inspect.isclass(int), inspect.getdoc(_inspect_documented), inspect.isgeneratorfunction(_inspect_documented)]


def _inspect_documented():
    """Indented
       doc.
    """
    yield


def _warnings():
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("careful")
        warnings.warn("old", DeprecationWarning)
    return [[(w.category.__name__, str(w.message)) for w in caught]]


def _logging():
    import io, logging
    stream = io.StringIO()
    logger = logging.getLogger("compat.check")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.debug("hidden")
    logger.warning("shown %d", 5)
    logger.removeHandler(handler)
    return [stream.getvalue(), logging.getLevelName(30), logger.getEffectiveLevel()]


def _numbers():
    import numbers
    return [isinstance(3, numbers.Integral), isinstance(2.5, numbers.Real), isinstance(1j, numbers.Real)]


def _shlex():
    import shlex
    return [shlex.split("a 'b c' \"d e\" f\\ g"), shlex.quote("it's"), shlex.join(["a b", "c"])]


def _fnmatch():
    import fnmatch
    return [fnmatch.fnmatch("node.py", "*.py"), fnmatch.fnmatch("node.rs", "*.py"),
            fnmatch.filter(["a.txt", "b.py", "c.txt"], "*.txt"), fnmatch.fnmatchcase("A.py", "a.*")]


def _calendar():
    import calendar
    return [calendar.isleap(2024), [int(x) for x in calendar.monthrange(2023, 2)], calendar.month(2024, 2),
            int(calendar.weekday(2024, 1, 1)), calendar.timegm((2024, 1, 1, 0, 0, 0))]


def _codecs():
    import codecs
    return [codecs.encode("abc", "rot13"), codecs.decode(b"\xc3\xa9", "utf-8"), "é".encode("latin-1"),
            "é".encode("utf-16-le"), b"\xff".decode("utf-8", "replace"), "€".encode("cp1252"),
            codecs.encode(b"hi", "hex"), "ü".encode("ascii", "backslashreplace")]


def _binascii():
    import binascii
    return [binascii.hexlify(b"\x01\xff"), binascii.crc32(b"abc"), binascii.b2a_base64(b"ab"), binascii.unhexlify("4142")]


def _pickle():
    import pickle
    data = {"a": [1, 2.5, "x"], "b": (1, 2), "c": {3, 4}.__len__(), "d": b"\x00"}
    return [pickle.loads(pickle.dumps(data)) == data, pickle.dumps([1, "a"], protocol=2), pickle.loads(pickle.dumps(data))]


def _graphlib():
    import graphlib
    return [list(graphlib.TopologicalSorter({"b": {"a"}, "c": {"b"}}).static_order())]


def _queue():
    import queue
    q = queue.PriorityQueue()
    for x in (3, 1, 2):
        q.put(x)
    lifo = queue.LifoQueue()
    lifo.put(1)
    lifo.put(2)
    return [[q.get() for _ in range(3)], lifo.get(), q.empty()]


def _tomllib():
    import tomllib
    return [tomllib.loads('a = 1\n[b]\nc = "x"\nd = [1.5, true]\ne = 1979-05-27T07:32:00Z')]


def _xml_etree():
    import xml.etree.ElementTree as ET
    root = ET.fromstring("<a><b x='1'>t</b><c><b x='2'/></c><d>u<e/>v</d></a>")
    new = ET.SubElement(root, "f", {"k": "v"})
    new.text = "w & z"
    return [root.find("b").get("x"), root.findtext("b"), [e.get("x") for e in root.iter("b")],
            [e.get("x") for e in root.findall(".//b")], root.find(".//b[@x='2']").attrib, [e.tag for e in root],
            root.find("d").tail, ET.tostring(root.find("d")), ET.tostring(new, encoding="unicode"),
            [e.tag for e in root.findall("./c/b")]]


def _xml_dom_minidom():
    import xml.dom.minidom
    doc = xml.dom.minidom.parseString("<r><i n='1'>a</i><i n='2'>b</i></r>")
    items = doc.getElementsByTagName("i")
    return [[i.getAttribute("n") for i in items], items[1].firstChild.data, doc.documentElement.tagName,
            doc.documentElement.toxml()]


def _email():
    import email
    from email.message import EmailMessage
    msg = email.message_from_string("Subject: hi\nFrom: a@b.c\n\nbody")
    m = EmailMessage()
    m["To"] = "x@y.z"
    m.set_content("hello")
    return [msg["Subject"], msg.get_payload(), m["To"], m.get_content_type(), m.get_content().strip()]


def _argparse():
    import argparse
    p = argparse.ArgumentParser(prog="p")
    p.add_argument("--n", type=int, default=1)
    p.add_argument("files", nargs="*")
    p.add_argument("-v", action="count", default=0)
    return [vars(p.parse_args(["--n", "3", "-vv", "a", "b"])), p.format_usage()]


def _configparser():
    import configparser
    c = configparser.ConfigParser()
    c.read_string("[s]\nk = v\nn = 3\nb = yes\n[DEFAULT]\nd = 1\n")
    return [c["s"]["k"], c.getint("s", "n"), c.getboolean("s", "b"), c.sections(), c["s"]["d"]]


def _colorsys():
    import colorsys
    return [colorsys.rgb_to_hsv(1.0, 0.0, 0.0), colorsys.hls_to_rgb(0.5, 0.5, 0.5), colorsys.rgb_to_yiq(0.2, 0.4, 0.6)]


def _zoneinfo():
    import zoneinfo, datetime
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    new_york = zoneinfo.ZoneInfo("America/New_York")
    utc = datetime.timezone.utc
    out = []
    # Either side of each 2024 transition in Paris.
    for stamp in ("2024-03-31T00:59:59", "2024-03-31T01:00:00", "2024-10-27T00:59:59", "2024-10-27T01:00:00"):
        out.append(datetime.datetime.fromisoformat(stamp).replace(tzinfo=utc).astimezone(paris).isoformat())
    # The repeated hour in New York, both folds; and a local time that does not exist.
    for fold in (0, 1):
        out.append(str(datetime.datetime(2024, 11, 3, 1, 30, fold=fold, tzinfo=new_york).utcoffset()))
    out.append(datetime.datetime(2024, 3, 10, 2, 30, tzinfo=new_york).astimezone(utc).isoformat())
    out.append([datetime.datetime(2024, m, 1, tzinfo=paris).tzname() for m in (1, 7)])
    out.append(datetime.datetime(1950, 1, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")).utcoffset().total_seconds())
    out.append("Europe/Paris" in zoneinfo.available_timezones())
    try:
        zoneinfo.ZoneInfo("Nowhere/Special")
        out.append("found")
    except zoneinfo.ZoneInfoNotFoundError:
        out.append("ZoneInfoNotFoundError")
    return out


def _locale():
    import locale
    locale.setlocale(locale.LC_ALL, "C")
    conv = locale.localeconv()
    return [locale.setlocale(locale.LC_NUMERIC), conv["decimal_point"], conv["thousands_sep"],
            locale.format_string("%.2f", 1234.5, grouping=True), locale.str(1.5), locale.atof("2.5"), locale.atoi("42"),
            locale.strxfrm("b") < locale.strxfrm("c"), locale.strcoll("a", "b") < 0, locale.normalize("en_US.utf8")]


def _threading():
    import threading
    out = []
    lock = threading.Lock()
    t = threading.Thread(target=lambda: out.append(1))
    t.start()
    t.join()
    with lock:
        out.append(2)
    local = threading.local()
    local.x = 3
    seen = []

    def own_values():
        seen.append(getattr(local, "x", None))
        local.x = 4
        seen.append(local.x)

    values = threading.Thread(target=own_values)
    values.start()
    values.join()
    names = []
    worker = threading.Thread(target=lambda: names.append(threading.current_thread().name), name="worker")
    worker.start()
    worker.join()
    names += [threading.current_thread().name, threading.main_thread() is threading.current_thread(),
              worker.is_alive(), [t.name for t in threading.enumerate()]]
    return [out, local.x, seen, threading.Event().is_set(), threading.Lock().acquire(blocking=False), names]


def _asyncio():
    import asyncio

    async def twice(x):
        await asyncio.sleep(0)
        return 2 * x

    async def main():
        results = await asyncio.gather(twice(1), twice(2))
        queue = asyncio.Queue()
        await queue.put("q")
        done = await asyncio.wait_for(twice(21), timeout=5)
        return [results, await queue.get(), done]

    return asyncio.run(main())


def _contextvars():
    import contextvars
    var = contextvars.ContextVar("var", default=1)
    token = var.set(2)
    inner = contextvars.copy_context().run(lambda: (var.set(3), var.get())[1])
    now = var.get()
    var.reset(token)
    return [inner, now, var.get()]


def _sqlite3():
    import sqlite3
    con = sqlite3.connect(":memory:")
    con.execute("create table t (x)")
    con.executemany("insert into t values (?)", [(5,), (7,)])
    return [con.execute("select sum(x), count(*) from t").fetchone()]


def _os():
    import os
    return [os.path.join("a", "b", "..", "c"), os.path.normpath("a/b/../c"), os.path.splitext("x.tar.gz"),
            os.path.basename("/p/q.txt"), os.sep, isinstance(os.getcwd(), str), os.fspath("p"),
            os.path.isabs("/x"), os.path.commonpath(["/a/b", "/a/c"])]


def _tempfile():
    import os, tempfile
    out = []
    with tempfile.TemporaryFile() as f:
        f.write(b"x" * 100_000)
        f.seek(0)
        out.append(len(f.read()))
    with tempfile.NamedTemporaryFile("w+", suffix=".txt") as f:
        f.write("named")
        f.flush()
        with open(f.name) as again:
            out.append(again.read())
        out.append(f.name.endswith(".txt"))
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "f.txt"), "w") as f:
            f.write("x")
        os.mkdir(os.path.join(d, "sub"))
        out.append(sorted(os.listdir(d)))
    out.append(os.path.exists(d))
    fd, path = tempfile.mkstemp()
    os.write(fd, b"abc")
    os.close(fd)
    out.append(os.path.getsize(path))
    os.remove(path)
    with tempfile.SpooledTemporaryFile(max_size=10) as f:
        f.write(b"y" * 20)
        f.seek(0)
        out.append(f.read(3))
    return out


def _pathlib():
    import pathlib, tempfile
    p = pathlib.PurePosixPath("/a/b/c.tar.gz")
    out = [p.name, p.suffix, p.suffixes, p.stem, str(p.parent), str(p.with_suffix(".x")), p.parts, str(p / "d")]
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        (root / "sub").mkdir()
        (root / "sub" / "f.txt").write_text("text")
        (root / "g.bin").write_bytes(b"\x00\x01")
        out.append(sorted(str(q.relative_to(root)) for q in root.rglob("*")))
        out.append((root / "sub" / "f.txt").read_text())
        out.append((root / "g.bin").stat().st_size)
    return out


def _shutil():
    import os, shutil, tempfile
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "a")
        os.makedirs(os.path.join(src, "inner"))
        with open(os.path.join(src, "inner", "f"), "w") as f:
            f.write("data")
        shutil.copytree(src, os.path.join(d, "b"))
        shutil.copyfile(os.path.join(d, "b", "inner", "f"), os.path.join(d, "c"))
        shutil.move(os.path.join(d, "c"), os.path.join(d, "e"))
        shutil.rmtree(src)
        # copy and copymode set the mode (os.chmod), which WASI has not.
        shutil.copy(os.path.join(d, "e"), os.path.join(d, "f"))
        shutil.copymode(os.path.join(d, "e"), os.path.join(d, "f"))
        os.chmod(os.path.join(d, "f"), 0o600, follow_symlinks=False)
        try:
            os.chmod(os.path.join(d, "missing"), 0o644)
            missing = "no error"
        except FileNotFoundError as e:
            missing = type(e).__name__
        return [sorted(os.listdir(d)), open(os.path.join(d, "e")).read(), open(os.path.join(d, "f")).read(), missing]


def _glob():
    import glob, os, tempfile
    with tempfile.TemporaryDirectory() as d:
        for name in ("a.txt", "b.txt", "c.py"):
            open(os.path.join(d, name), "w").close()
        os.mkdir(os.path.join(d, "s"))
        open(os.path.join(d, "s", "d.txt"), "w").close()
        found = glob.glob("**/*.txt", root_dir=d, recursive=True)
        return [sorted(glob.glob("*.txt", root_dir=d)), sorted(found), glob.escape("a[b]")]


def _zipfile():
    import io, zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", "hello " * 50)
        z.writestr("d/b.bin", b"\x00\x01")
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return [z.namelist(), z.read("a.txt")[:11], z.getinfo("a.txt").file_size, z.testzip(),
                [p.name for p in zipfile.Path(z, "d/").iterdir()]]


def _tarfile():
    import io, tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        data = b"contents"
        info = tarfile.TarInfo("dir/file.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue()), mode="r:gz") as t:
        return [t.getnames(), t.extractfile("dir/file.txt").read()]


def _bz2():
    import bz2
    data = b"bzip " * 100
    return [bz2.decompress(bz2.compress(data)) == data, len(bz2.decompress(bz2.compress(b"x")))]


def _lzma():
    import lzma
    data = b"lzma " * 100
    return [lzma.decompress(lzma.compress(data)) == data, lzma.decompress(lzma.compress(b"y", format=lzma.FORMAT_ALONE))]


def _html_parser():
    from html.parser import HTMLParser
    seen = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.append(("start", tag, attrs))

        def handle_endtag(self, tag):
            seen.append(("end", tag))

        def handle_data(self, data):
            seen.append(("data", data))

    P().feed("<p class='x'>Hi &amp; <b>there</b></p>")
    return seen


def _mimetypes():
    import mimetypes
    return [mimetypes.guess_type("a.json"), mimetypes.guess_type("b.png"), mimetypes.guess_extension("text/html")]


def _concurrent_futures():
    import concurrent.futures as cf
    import logging
    out = []
    seen = []
    with cf.ThreadPoolExecutor(max_workers=2, initializer=seen.append, initargs=("init",)) as pool:
        out.append(list(pool.map(abs, [-1, -2, 3])))
        out.append(pool.submit(pow, 2, 8).result())
        failed = pool.submit(divmod, 1, 0)
        out.append([type(failed.exception()).__name__, failed.done()])
        futures = [pool.submit(pow, 3, i) for i in range(6)]
        out.append(sorted(f.result() for f in cf.as_completed(futures, timeout=5)))
        out.append(len(cf.wait(futures, timeout=5).done))
        out.append(pool.submit(lambda: pool.submit(pow, 2, 10).result()).result())
    out.append(seen[:1])
    try:
        pool.submit(abs, 1)
    except RuntimeError as e:
        out.append(str(e))
    logging.getLogger("concurrent.futures").disabled = True
    def bad():
        raise ValueError("no")
    broken = cf.ThreadPoolExecutor(max_workers=1, initializer=bad)
    out.append(type(broken.submit(abs, -1).exception()).__name__)
    broken.shutdown()
    logging.getLogger("concurrent.futures").disabled = False
    return out


def _subprocess():
    import subprocess
    return [subprocess.run(["echo", "hi"], capture_output=True).stdout]


def _socket():
    import socket
    packed = socket.inet_aton("1.2.3.4")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        bound = s.getsockname()[0]
    return [packed, socket.htons(1) in (1, 256), bound]


CHECKS = {
    name[1:]: check for name, check in globals().items()
    if name.startswith("_") and not name.startswith("__") and callable(check)
    and name not in ("_typing_hinted", "_inspect_documented")
}


def run(name):
    """What check `name` gives: the repr of its result, or "error: " and
    the last line of the exception."""
    try:
        return repr(CHECKS[name]())
    except BaseException:
        return "error: " + traceback.format_exc().strip().splitlines()[-1]


class StdlibCheck:
    """process(name): what check `name` gives (see `run`); process("*")
    lists every check."""

    def process(self, name):
        if name == "*":
            return list(CHECKS)
        if name not in CHECKS:
            return "error: no check for " + name
        return run(name)


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps({
        "python": "%s %d.%d" % (sys.implementation.name, *sys.version_info[:2]),
        "checks": {name: run(name) for name in CHECKS},
    }, indent=1, ensure_ascii=False))
