"""Nodes doing ordinary data work: many live objects of one type, stdlib
modules imported together, dates parsed, errors raised from real lines."""

import datetime


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class ManyObjects:
    """Holds `n` objects of one kind alive at once, picked by name, and
    returns a summary CPython gives exactly the same."""

    def process(self, request):
        kind, n = request["kind"], request["n"]
        if kind == "floats":
            xs = [float(i) + 0.5 for i in range(n)]
            return {"len": len(xs), "sum": sum(xs), "last": xs[-1]}
        if kind == "dict":
            d = {i: str(i) for i in range(n)}
            return {"len": len(d), "probe": d[n // 2], "keys": sum(d)}
        if kind == "instances":
            points = [Point(i, -i) for i in range(n)]
            return {"len": len(points), "x": sum(p.x for p in points), "y": points[-1].y}
        if kind == "strings":
            words = ["w%d" % i for i in range(n)]
            return {"len": len(set(words)), "chars": sum(map(len, words))}
        raise ValueError("unknown kind %r" % kind)


class Imports:
    """Imports email, http.client, xml.dom.minidom and tomllib together and
    uses each a little."""

    def process(self, _):
        import email
        import email.message
        import http.client
        import tomllib
        import xml.dom.minidom

        msg = email.message_from_string("Subject: hi\nFrom: a@example.com\n\nbody\n")
        doc = xml.dom.minidom.parseString("<root><item name='a'/><item name='b'/></root>")
        config = tomllib.loads('title = "nodes"\n[limits]\nitems = 3\n')
        return {
            "subject": msg["Subject"],
            "from": msg["From"],
            "body": msg.get_payload(),
            "items": [e.getAttribute("name") for e in doc.getElementsByTagName("item")],
            "toml": config,
            "status": http.client.responses[404],
        }


class Dates:
    """Parses and formats dates as `datetime` does on CPython."""

    def process(self, text):
        when = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M")
        return [when.isoformat(), when.strftime("%A %d %B %Y, %H:%M"), when.timetuple().tm_yday]


class TimeFormats:
    """``time.strftime`` over random time tuples and directives (flags,
    widths, E/O modifiers, unknown ones), ``asctime``, the weekday of
    ``gmtime`` and ``strptime("%c")``: what glibc's C locale gives on
    CPython. Time zone directives are given a ``gmtime`` struct (GMT), so the
    answer does not depend on the machine's zone."""

    CONVERSIONS = "aAbBcCdDeFgGhHIjklmMnpPrRStTuUVwWxXyY%"

    def process(self, seed):
        import random
        import time
        rng = random.Random(seed)
        directives = ["%" + c for c in self.CONVERSIONS]
        directives += ["%" + f + c for f in "-_0^#" for c in self.CONVERSIONS]
        directives += ["%" + w + c for w in ("1", "3", "10") for c in "YdeaBpjGc%"]
        directives += ["%E" + c for c in "cCxXyYa"] + ["%O" + c for c in "deHImMSyBa"]
        directives += ["%Q", "%", "%5", "%-", "%^#a", "%_-d", "%+", "x%%y"]
        out = []
        for _ in range(300):
            year = rng.choice([rng.randint(1, 9999), rng.randint(-50, 50), rng.randint(1900, 2100), 12345])
            t = (year, rng.randint(0, 12), rng.randint(0, 31), rng.randint(0, 23), rng.randint(0, 59),
                 rng.randint(0, 61), rng.randint(-1, 8), rng.randint(0, 366), rng.randint(-3, 3))
            if rng.random() < 0.3:
                t = time.gmtime(rng.randint(-2**34, 2**34))
            fmt = " ".join(rng.choice(directives) for _ in range(3))
            for f in (time.strftime, lambda _, t: time.asctime(t)):
                try:
                    out.append(f(fmt, t))
                except (ValueError, TypeError, OverflowError) as e:
                    out.append("%s: %s" % (type(e).__name__, e))
        zone = time.gmtime(86400 * 365)
        out.append(time.strftime("%Z %z %-z %3z %#Z", zone))
        out.append([tuple(time.gmtime(s))[:9] for s in (0, 1700000000, -10**9)])
        out.append(time.gmtime(0).tm_zone)
        when = time.strftime("%c", zone)
        out.append(str(time.strptime(when, "%c")[:6]))
        out.append([type(f()).__name__ for f in (time.process_time, time.thread_time)])
        # Counted from the instance's start, not from when a snapshot was made.
        first = time.process_time()
        out.append([0 <= first <= time.process_time() < 3600, 0 <= time.thread_time_ns() < 3600 * 10**9])
        out.append(time.get_clock_info("process_time").monotonic)
        return out


class AppError(Exception):
    """An exception with its own text."""

    def __str__(self):
        return "custom message"


class Raises:
    """Raises as ordinary node code does: the host's traceback must read as
    CPython's ``traceback.format_exception`` writes it."""

    def __init__(self, kind="custom"):
        self.kind = kind

    def process(self, data):
        kind = self.kind
        if kind == "custom":
            raise AppError(42, "args")
        if kind == "key":
            return {}["missing"]
        if kind == "notes":
            e = ValueError("bad value")
            e.__notes__ = ["first note", "second\nnote"]
            raise e
        if kind == "from_none":
            try:
                return {}["k"]
            except KeyError:
                raise ValueError("clean") from None
        if kind == "chained":
            try:
                return int("x")
            except ValueError as e:
                raise RuntimeError("wrapped") from e
        if kind == "context":
            try:
                return 1 / 0
            except ZeroDivisionError:
                raise LookupError("during")
        if kind == "empty":
            raise AppError() if data else ValueError()
        if kind == "group":
            errors = []
            for value in ("x", "12", "y"):
                try:
                    int(value) if value.isdigit() else self.down(1)
                except LookupError as e:
                    errors.append(e)
            errors.append(ExceptionGroup("inner", [KeyError("k")]))
            raise ExceptionGroup("several", errors)
        return self.down(40)

    def down(self, n):
        if n == 0:
            raise LookupError("at the bottom")
        return self.down(n - 1)


class Threads:
    """Locks held while another waits, and a consumer thread started before
    its producer puts: what CPython gives (in the sandbox and on native
    RustPython a thread runs to its end when started, so the consumer there
    fails with a deadlock error, logged, and the node goes on)."""

    def process(self, data):
        import queue
        import threading
        import time
        lock = threading.Lock()
        lock.acquire()
        started = time.monotonic()
        waited = [lock.acquire(blocking=False), lock.acquire(timeout=0.05)]
        waited.append(time.monotonic() - started >= 0.04)
        lock.release()
        waited.append(lock.acquire(timeout=0.05))
        q = queue.Queue()
        consumer = threading.Thread(target=q.get)
        consumer.start()
        q.put(1)
        consumer.join()
        return [waited, "joined"]


class OsInfo:
    """``os.uname`` and ``os.times`` as a sandbox answers them."""

    def process(self, data):
        import os
        u, t = os.uname(), os.times()
        return [repr(u), u.sysname, u.machine, list(u) == [u.sysname, u.nodename, u.release, u.version, u.machine],
                type(t).__name__, len(t), 0 <= t.user == t[0] < 3600, t.system, t.elapsed > 0]


class Fails:
    """Raises from a line whose text the traceback must show."""

    def process(self, data):
        total = 0
        for x in data:
            total += 1 / x  # the line the traceback shows
        return total


class Coroutines:
    """Pure coroutine work with asyncio: tasks, gather, queues, async
    generators, timeouts of zero length; no sockets or subprocesses."""

    def process(self, n):
        import asyncio

        async def produce(queue):
            for i in range(n):
                await queue.put(i)
                await asyncio.sleep(0)
            await queue.put(None)

        async def consume(queue):
            total = 0
            while (item := await queue.get()) is not None:
                total += item
            return total

        async def squares():
            for i in range(n):
                yield i * i
                await asyncio.sleep(0)

        async def main():
            queue = asyncio.Queue(maxsize=4)
            _, total = await asyncio.gather(produce(queue), consume(queue))
            squared = [x async for x in squares()]
            waited = await asyncio.wait_for(asyncio.sleep(0.001, result="slept"), timeout=5)
            return [total, sum(squared), waited]

        return asyncio.run(main())


class MathValues:
    """What the math module's C-library functions give for an input, each
    as the exact bits (``float.hex``): exp, log, log2, pow, lgamma, gamma,
    expm1, log1p, asinh, and the statistics a node reports with them."""

    def process(self, x):
        import math
        import statistics
        out = []
        for f in (math.exp, math.log, math.log2, math.lgamma, math.expm1, math.log1p, math.asinh):
            out.append(f(x).hex())
        out.append(math.pow(x, 1.37).hex())
        out.append(math.gamma(x % 30 + 0.01).hex())
        data = [x * k % 97 + 1 for k in range(1, 40)]
        out.append(statistics.geometric_mean(data).hex())
        return out


class IntEdges:
    """Int arithmetic, comparisons and indexing, repeated so the adaptive
    interpreter specializes them (its fast int paths), for a pair of ints
    around the 32- and 64-bit edges."""

    def process(self, pair):
        a, b = pair
        seq = list(range(10))
        out = None
        for _ in range(40):
            out = [
                a + b, a - b, a * b, -a, abs(a),
                a < b, a <= b, a == b, a != b, a > b, a >= b,
                a // b if b else None, a % b if b else None,
                seq[a % 10], seq[-1 - b % 10],
                a & b, a | b, a ^ b, a >> 3, a << 3,
                str(a), float(a) == a,
            ]
        return out


class SetOrder:
    """Random histories of sets and frozensets of ints, floats and tuples
    of ints (whose hashes CPython does not randomize): adds, removals,
    ``pop``, copies, the operators and their in-place forms, ``update`` from
    sets, lists and dicts, literals, comprehensions and ``{*a, *b}``. Each
    step's result is read in iteration order, which CPython gives by where
    its hash table keeps each element."""

    def process(self, seed):
        import random
        rng = random.Random(seed)

        def key():
            k = rng.random()
            if k < 0.5:
                return rng.randrange(-20, 200)
            if k < 0.65:
                return rng.randrange(-2**62, 2**62)
            if k < 0.72:
                return rng.randrange(2**64, 2**80)
            if k < 0.85:
                return rng.choice([0.5, 1.5, -0.25, 2.0, 1e10, 3.75, -1.0])
            return (rng.randrange(0, 40), rng.randrange(-5, 5))

        def keys(n=None):
            return [key() for _ in range(rng.randrange(0, 50) if n is None else n)]

        def other():
            kind = rng.randrange(4)
            xs = keys()
            if kind == 0:
                return set(xs)
            if kind == 1:
                return frozenset(xs)
            if kind == 2:
                return dict.fromkeys(xs)
            return xs

        s = set(keys())
        out = []
        for _ in range(60):
            op = rng.randrange(22)
            o = other()
            if op == 0:
                for k in keys(rng.randrange(1, 30)):
                    s.add(k)
            elif op == 1:
                for k in keys(10) + rng.sample(sorted(s, key=repr), min(len(s), 5)):
                    s.discard(k)
            elif op == 2 and s:
                out.append([s.pop() for _ in range(min(len(s), rng.randrange(1, 4)))])
            elif op == 3:
                s = s.copy()
            elif op == 4:
                s.update(o)
            elif op == 5:
                s = s | set(o)
            elif op == 6:
                s = s.union(o, keys())
            elif op == 7:
                out.append(list(s & set(o)))
                out.append(list(s.intersection(o)))
            elif op == 8:
                out.append(list(s - set(o)))
                out.append(list(s.difference(o)))
            elif op == 9:
                out.append(list(s ^ set(o)))
                out.append(list(s.symmetric_difference(o)))
            elif op == 10:
                s -= set(o)
            elif op == 11:
                s.difference_update(o)
            elif op == 12:
                s &= set(o) | s
            elif op == 13:
                s.intersection_update(o, s)
            elif op == 14:
                s ^= set(o)
            elif op == 15:
                s.symmetric_difference_update(o)
            elif op == 16:
                s = {*s, *o}
            elif op == 17:
                s = {k for k in list(s) + keys()}
            elif op == 18:
                f = frozenset(s)
                out.append(list(f | frozenset(o)))
                out.append(list(f ^ frozenset(o)))
                out.append(list(frozenset(o) - f))
            elif op == 19:
                s = set(s)
            elif op == 20:
                s.clear()
                s.update(keys())
            else:
                s = set(list(s) + keys())
            out.append(repr(s))
        # Literals (compiled to frozenset constants), colliding hashes
        # (hash(-1) == hash(-2)), and elements of a class of the node's own.
        out.append(repr({3, 1, 2, 100, 64, 33, -1}))
        out.append(repr({1, 2.0, True, 1.0, (1, 2), (2, 1), -1, -2, 2**61 - 1, 2**61, -(2**63)}))
        out.append(list({10, 5, 100}))
        out.append(list(set([5, 3, 1, 99, 42, 7, 3, 1])))
        ks = {_Keyed(i, i % 3) for i in range(12)}
        ks.discard(_Keyed(4, 1))
        ks.remove(_Keyed(7, 1))
        ks.add(_Keyed(100, 2))
        out.append(repr(ks))
        out.append(repr([ks.pop() for _ in range(3)]))
        return out


class _Keyed:
    """An element with a chosen hash, equal by value."""

    def __init__(self, value, hash_):
        self.value, self.hash_ = value, hash_

    def __hash__(self):
        return self.hash_

    def __eq__(self, other):
        return isinstance(other, _Keyed) and other.value == self.value

    def __repr__(self):
        return "K(%d)" % self.value


class Errnos:
    """The errno numbers Python code sees: the ``errno`` module, the
    ``OSError`` subclass a number picks, ``os.strerror``, and the errors of
    opening and listing a missing path (number, message, text)."""

    def process(self, _):
        import errno
        import os
        out = [errno.ENOENT, errno.EACCES, errno.EEXIST, errno.EAGAIN, errno.ENOTSUP,
               errno.errorcode[2], errno.errorcode[13], errno.errorcode[errno.EISDIR],
               os.strerror(errno.ENOENT), os.strerror(errno.EISDIR), os.strerror(errno.EEXIST)]
        for number in (2, 13, 17, 21, 20, 1, 11, 999):
            e = OSError(number, "text")
            out.append([type(e).__name__, e.errno, str(e)])
        try:
            open("/definitely/missing.txt")
        except OSError as e:
            out.append([type(e).__name__, e.errno, e.strerror, str(e)])
        try:
            os.listdir("/definitely/missing")
        except OSError as e:
            out.append([type(e).__name__, e.errno == errno.ENOENT, str(e)])
        return out


class Texts:
    """What ``repr`` of float arrays and ``str`` of a ``RecursionError``
    read."""

    def process(self, _):
        from array import array
        out = [repr(array("d", [0.1, 1e300, float("inf"), -0.0, 1e16, 1.5e-7, 2.5, 1 / 3])),
               repr(array("f", [1e30, 0.1, 2.0])), repr(array("d")), str(array("f", [0.5]))]

        def down():
            return down()

        try:
            down()
        except RecursionError as e:
            out.append(str(e))
        return out


class Arithmetic:
    """Float and int arithmetic where RustPython's compiler folded
    constants inexactly or its ``**`` missed CPython's special cases, and
    ``re.sub`` with a function returning None. Every case is computed twice:
    from literals (which a compiler may fold) and from variables."""

    def process(self, _):
        import re
        folded = [48000.0 // 2, 86400.0 // 3600, 3.0 // 3.0, 255 // 3.0, 1e16 // -2.5, 7.0 // 2,
                  (2**53 + 1) / 3, 10**25 / 7, 10 ** -300, 2 ** -1074, 0 / -1, 7.5 % 2, -7.5 % 2,
                  2.0 ** 0.5, 10 // 3, 10 % -3, 2 ** 10, 1 / 3, 2.5 * 4, 0.1 + 0.2]
        a, b, c, d, e, f = 48000.0, 2, 2**53 + 1, 3, 10, -300
        computed = [a // b, c / d, e ** f, 0 / -1, 2 ** -1074]
        out = [repr(v) for v in folded + computed]
        minus_zero, zero, inf, nan = -0.0, 0.0, float("inf"), float("nan")
        powers = [(minus_zero, 0.5), (zero, -0.0), (zero, -inf), (-inf, 0.5), (-inf, -0.5), (-inf, 3.0),
                  (-inf, -3.0), (-2.0, 1e-20), (-8.0, 3.0), (zero, -1.0), (-2.0, 0.5), (1.0, nan),
                  (nan, 0.0), (-1.0, inf), (0.5, -inf), (2.0, 10000.0), (minus_zero, 3.0), (minus_zero, -2.0)]
        for x, y in powers:
            try:
                out.append(repr(x ** y))
            except (ZeroDivisionError, OverflowError, ValueError) as err:
                out.append(type(err).__name__)
        out.append(re.sub("a", lambda m: None, "abca"))
        out.append(re.sub("(b)", lambda m: m.group(1) * 2 if m else None, "abcb"))
        for call in (lambda: [1].index(5), lambda: ["a"].index("b"), lambda: [1].remove(2)):
            try:
                call()
            except ValueError as err:
                out.append(str(err))
        return out


class XmlErrors:
    """Malformed documents through ``xml.etree.ElementTree.fromstring``:
    the exception type and expat's error code, and that good ones parse;
    and the errors of corrupt zlib streams."""

    def process(self, _):
        import xml.etree.ElementTree as ET
        out = []
        for text in ["<a><b></a>", "<a>", "<a>&bogus;</a>", "", "<a x='1' x='2'/>"]:
            try:
                ET.fromstring(text)
                out.append("parsed")
            except ET.ParseError as e:
                out.append([type(e).__name__, e.code])
        root = ET.fromstring("<r><i n='1'>x</i><i n='2'>y &amp; z</i></r>")
        out.append([(i.get("n"), i.text) for i in root.iter("i")])
        # Corrupt and truncated zlib streams, as the same kind of bad input.
        import zlib
        good = zlib.compress(b"hello world" * 50)
        for data in (b"garbage", good[:10], b"x\x9c" + b"\xff" * 20, good[:-3]):
            try:
                zlib.decompress(data)
                out.append("decompressed")
            except zlib.error as e:
                out.append(str(e))
        return out


class _Nested:
    """Formats itself with ``str.format`` (another template) while an outer
    ``str.format`` formats it."""

    def __init__(self, n):
        self.n = n

    def __format__(self, spec):
        return "<{}:{}>".format(self.n, spec or "-")


class _Template(str):
    pass


class Formats:
    """``str.format`` as a node uses it: one template over and over, two in
    turn, a nested call, a template that does not parse between good ones,
    keyword and indexed fields, a str subclass as the template; each input
    (a count) formats that many numbers."""

    def process(self, n):
        out = []
        a, b = "Result: {}", "{0}-{0:>4}|{x!r}"
        for i in range(n):
            out.append(a.format(i))
            out.append(b.format(i, x=str(i)))
        out.append("[{}] [{:^9}]".format(_Nested(1), _Nested(2)))
        for bad in ("{", "}", "{0!z}", "{:d}"):
            try:
                out.append(bad.format(3.5))
            except (ValueError, KeyError) as e:
                out.append([type(e).__name__, str(e)])
        out.append(a.format("after"))
        out.append(_Template("T{}").format(7))
        out.append("{a[1]}{b.real}".format(a=[5, 6], b=2))
        out.append("Result: {k}".format_map({"k": 1}))
        return out


class PlainFormats:
    """Templates of plain positional fields (``{}``, ``{0}``): every kind of
    argument, and the errors of too few arguments and mixed numbering, each
    twice (the second time from the kept template); last, the specs an
    argument's ``__format__`` was called with (once per call)."""

    def process(self, _):
        seen = []

        class Loud:
            def __format__(self, spec):
                seen.append(spec)
                return "loud"

        class Mine(int):
            def __format__(self, spec):
                return "mine" + spec

        class Text(str):
            pass

        out = []
        cases = [
            ("n={} m={}", (0, -7)), ("{}", (-2**63,)), ("{}", (2**63 - 1,)), ("{}|", (2**64 + 5,)),
            ("{}", (-2**70,)), ("{}{}", (True, None)), ("{} {}", (1.5, 1e22)), ("{}", (Mine(3),)),
            ("<{}>", (Text("t"),)), ("{}", ("é\u20ac",)), ("{{{}}}", (1,)), ("{0}{1}{0}", (4, "x")),
            ("{1}-{0}", ("a", "b")), ("{}", ([1, "a"],)), ("a{}b{}c", (Loud(), 2)), ("{} ", (1, 2, 3)),
            ("{}{}", (1,)), ("{2}", ("a", "b")), ("{}{0}", (1, 2)), ("{0}{}", (1, 2)), ("x{}y", ()),
        ]
        # Past the kept length (parsed each time), and at it with 500
        # fields given empty strings.
        cases += [("{}-" * 600, tuple(range(600))), ("{}" * 500, ("",) * 500)]
        for template, args in cases:
            for _ in range(2):
                try:
                    out.append(template.format(*args, unused=1))
                except (ValueError, IndexError) as e:
                    out.append([type(e).__name__, str(e)])
        out.append(seen)
        return out


class StrBuilding:
    """Strings built piece by piece with ``+=`` and ``s = s + t``: long
    enough that a copy of the text per append (quadratic) would run far
    past the policy's timeout; pieces of every kind (ASCII, Latin-1, BMP,
    astral, lone surrogates); then the built strings' lengths, slices,
    hashes, searches and encodings, against the same text joined at once,
    and strings that other names also hold (which must not change)."""

    def process(self, _):
        pieces = ["a", "\u00e9", "\u20ac", "\U0001f600", "\ud83d", "\ude00", "bc"]
        s = ""
        for i in range(400000):
            s += "abcdefghij"
        t = ""
        for i in range(200000):
            t = t + pieces[i % 2 * 6]
        u = ""
        for i in range(7000):
            u += pieces[i % 7]
        joined = "".join(pieces[i % 7] for i in range(7000))
        kept = "base"
        alias = kept
        kept += "!"
        middle = kept
        kept += "?"
        growing = "\u00fc"
        steps = []
        for i in range(8):
            growing += "x" if i % 2 else "\u00fc"
            steps.append([len(growing), growing[-1], growing[len(growing) // 2]])
        keys = {}
        key = "k"
        for i in range(4):
            key += str(i)
            keys[key] = i
        return [
            len(s), s[-3:], s[123456:123460], hash(s) == hash("abcdefghij" * 400000), s.count("j"),
            len(t), t[:5], t.rfind("a"),
            len(u), u == joined, ascii(u[100]), ascii(u[-5:]), u.find("\U0001f600"), ascii(u[1234:1240]),
            hash(u) == hash(joined), u.encode("utf-8", "surrogatepass")[:24].hex(), ascii(u.upper()[:10]),
            [kept, alias, middle], steps, keys, keys.get("k0123"),
        ]


class PercentFormats:
    """``text % values`` in every form, each twice (the second time from the
    kept format), and alternating formats: plain and flagged fields, ``*``
    widths, mappings, every conversion, subclasses with their own
    ``__str__``, values whose ``__str__`` itself uses ``%``, and each error."""

    def process(self, _):
        class Mine(int):
            def __str__(self):
                return "mine"

        class Text(str):
            def __str__(self):
                return "text-sub"

        class Nested:
            def __str__(self):
                return "<%s|%d>" % ("in", 7)

        class Mapping:
            def __getitem__(self, key):
                return key.upper()

        cases = [
            ("%d:%s", (5, "x")), ("%d", 0), ("%d", -2**63), ("%d", 2**63 - 1), ("%d", 2**64 + 3),
            ("%i|%u", (-7, 8)), ("%s", "solo"), ("%s", ("tuple",)), ("%s", [1, 2]), ("%s %s", (None, True)),
            ("%d", True), ("%d", 3.99), ("%d", Mine(4)), ("%s", Mine(4)), ("%s", Text("t")), ("%r", Text("t")),
            ("%s and %s", (Nested(), Nested())), ("%5d|%-5d|%05d|%+d|% d", (1, 2, 3, 4, 5)), ("%x %X %o %#x %#o", (255, 255, 8, 255, 8)),
            ("%.2f %e %g %10.3f %-8.1f|", (3.14159, 12345.678, 0.0001, 2.5, 1.25)), ("%*d|%-*s|%.*f", (5, 42, 4, "ab", 2, 3.14159)),
            ("%c%c", (65, "z")), ("%a %r", ("\u00e9", "\u00e9")), ("%%", ()), ("100%% of %s", "x"),
            ("%(name)s is %(age)d", {"name": "ann", "age": 30}), ("%(a)s%(a)s", {"a": 1}), ("%(k)s", Mapping()),
            ("%.3s|%5.1s|", ("abcdef", "xyz")), ("\u00e9%s\U0001f600", "\u20ac"), ("%s", "\U0001f600"),
            ("no fields", ()), ("no fields", {}), ("no fields", "x"), ("%d %d", (1,)), ("%d", (1, 2)), ("%d", "s"),
            ("%(a)s %s", {"a": 1}), ("%(a)s", (1,)), ("%y", 1), ("%", 1), ("%s %(a)s", {"a": 1}), ("%*d", ("x", 1)),
            ("%c", 1114112), ("%d", None), ("%f", "x"), ("%s", ()),
        ]
        out = []
        for form, values in cases:
            for _ in range(2):
                try:
                    out.append(form % values)
                except (TypeError, ValueError, KeyError, OverflowError) as e:
                    out.append([type(e).__name__, str(e)])
        # Alternating formats, each kept and replaced in turn.
        out.append(["%d-%s" % (i, i) if i % 2 else "%s+%d" % (i, i) for i in range(6)])
        return out


class CsvDialects:
    """``csv.list_dialects()`` after registering, re-registering and
    unregistering dialects: registration order, as CPython keeps it."""

    def process(self, _):
        import csv

        out = [csv.list_dialects()]
        csv.register_dialect("zzz", delimiter=";")
        csv.register_dialect("aaa", delimiter="|")
        csv.register_dialect("excel", delimiter=",")
        out.append(csv.list_dialects())
        csv.unregister_dialect("zzz")
        out.append(csv.list_dialects())
        out.append(csv.get_dialect("aaa").delimiter)
        try:
            csv.unregister_dialect("zzz")
        except csv.Error as e:
            out.append(str(e))
        # As it was: the CPython runtime's interpreter is shared.
        csv.unregister_dialect("aaa")
        csv.register_dialect("excel", csv.excel)
        return out


class _Caller:
    def __call__(self, x):
        return ["called", x]


class StaticProcess:
    process = staticmethod(lambda x: ["static", x])


class ClassProcess:
    @classmethod
    def process(cls, x):
        return [cls.__name__, x]


class AttributeProcess:
    """An instance attribute shadows the class's method."""

    def __init__(self):
        self.process = _Caller()

    def process(self, x):
        return ["method", x]


class InheritedProcess(Formats):
    def process(self, n):
        return ["sub", super().process(0)[-5:], n]


class ErrorTexts:
    """The texts of common errors, which node code often returns as
    ``str(e)``: each case's exception type and text; and ``struct``'s
    native sizes (64-bit Linux's on CPython)."""

    def process(self, _):
        import abc
        import datetime
        import decimal
        import math
        import struct

        class Shape(abc.ABC):
            @abc.abstractmethod
            def area(self): ...

            @abc.abstractmethod
            def perimeter(self): ...

        class Slotted:
            __slots__ = ("x",)

        def unbound():
            if False:
                y = 1
            return y  # noqa: F821

        def unpack():
            a, b = 1, 2, 3
            return a, b

        def set_slot():
            Slotted().z = 1

        cases = [
            lambda: 1 // 0, lambda: 1 % 0, lambda: divmod(1, 0), lambda: 1 / 0,
            lambda: 1.0 / 0, lambda: 1.0 // 0, lambda: 1.0 % 0, lambda: divmod(1.0, 0), lambda: 1 // 0.0,
            lambda: (1 + 1j) / 0, lambda: 0.0 ** -1, lambda: 0 ** -1, lambda: 2.0 ** 10000, lambda: 0j ** -1,
            lambda: math.sqrt(-1), lambda: math.log(0), lambda: math.acos(2), lambda: math.log(-1, 2),
            unbound, unpack, set_slot, Shape,
            lambda: [1] + (2,), lambda: (1,) + [2], lambda: max([]), lambda: min(()),
            lambda: b"\xff".decode(), lambda: "\xe9".encode("ascii"),
            lambda: datetime.date(2023, 2, 29), lambda: datetime.date(2023, 13, 1), lambda: datetime.date(0, 1, 1),
            lambda: datetime.time(25, 0), lambda: datetime.time(1, 60), lambda: datetime.datetime(2020, 1, 1, 1, 1, 61),
            lambda: datetime.datetime.strptime("31/2/2020", "%d/%m/%Y"),
            lambda: decimal.Decimal(1) / 0, lambda: decimal.Decimal("x"), lambda: decimal.Decimal(0) / 0,
            lambda: struct.calcsize("lLnNP"), lambda: struct.pack("il", 1, 2**40), lambda: struct.unpack("@l", b"\xfb" + b"\xff" * 7),
            lambda: frozenset([[]]), lambda: {(1,), {}}, lambda: set().add([1]), lambda: [] in {1},
            lambda: {[]: 1}, lambda: reversed(5), lambda: reversed(object()),
        ]
        out = []
        for case in cases:
            try:
                out.append(repr(case()))
            except Exception as err:
                out.append(f"{type(err).__name__}: {err} {getattr(err, '__notes__', '')}")
        return out


class DeepRecursion:
    """Recursion as deep as CPython's C stack takes it, with the limit
    raised: plain calls, through ``functools.lru_cache``, and through
    ``__init__``."""

    def process(self, depth):
        import functools
        import sys

        sys.setrecursionlimit(max(sys.getrecursionlimit(), depth * 3 + 100))

        def plain(n):
            return 0 if n == 0 else 1 + plain(n - 1)

        @functools.lru_cache(maxsize=None)
        def cached(n):
            return 0 if n == 0 else 1 + cached(n - 1)

        class Chain:
            def __init__(self, n):
                self.next = Chain(n - 1) if n else None

        chain, length = Chain(depth // 2), 0
        while chain is not None:
            chain, length = chain.next, length + 1
        return [plain(depth), cached(depth), length]


class FloatSums:
    """``sum()`` of floats, ints and mixes, and its refusals: 3.12+ adds
    floats with compensation, 3.11 one rounded addition at a time."""

    def process(self, _):
        import random

        rng = random.Random(7)
        floats = [rng.uniform(-1e6, 1e6) for _ in range(1000)]
        out = [sum([0.1] * 10), sum([1e16, 1.0, -1e16]), sum(floats), sum(floats, 0.5), sum(range(100)),
               sum([1, 2.5, 3]), sum([[1], [2]], []), sum(iter([0.1, 0.2, 0.3]), start=1)]
        for args in ((["a"], ""), ([b"a"], b""), ([1, "a"],)):
            try:
                sum(*args)
            except TypeError as e:
                out.append(str(e))
        return [repr(v) for v in out]


class Pickles:
    """Pickles made with the default protocol (4 on CPython 3.11, 5 in the
    3.14 standard library), as bytes, and read back."""

    def process(self, _):
        import io
        import pickle

        data = {"a": [1, 2.5, "x"], "b": (None, True)}
        stream = io.BytesIO()
        pickle.dump(data, stream)
        return [pickle.DEFAULT_PROTOCOL, pickle.dumps(data).hex(), stream.getvalue().hex(),
                pickle.dumps(data, 2).hex(), pickle.loads(pickle.dumps(data)) == data]


class Stdlib311:
    """Results whose form the 3.12+ standard library changed (the sandboxes
    run 3.14's), as CPython 3.11 gives them: weekdays as ints, two strings
    diffed as sequences of characters, seeded normal samples."""

    def process(self, _):
        import calendar
        import difflib
        import statistics

        refused = []
        for diff in (lambda: difflib.unified_diff(["a\n"], [b"b\n"]), lambda: difflib.unified_diff(["a\n"], ["b\n"], 1)):
            try:
                list(diff())
            except TypeError as e:
                refused.append(str(e))
        return [
            calendar.monthrange(2024, 2), repr(calendar.monthrange(2023, 1)), repr(calendar.weekday(2024, 3, 1)),
            [calendar.MONDAY, calendar.SUNDAY], calendar.month(2024, 2), calendar.TextCalendar(calendar.SUNDAY).formatweekheader(2),
            list(difflib.unified_diff("abc", "abd")), list(difflib.context_diff("ab", "ac")),
            list(difflib.unified_diff(["a\n", "b\n"], ["a\n", "c\n"], "x", "y")), refused,
            statistics.NormalDist(10, 2).samples(4, seed=7), len(statistics.NormalDist().samples(3)),
        ]


class XmlNamespaces:
    """A document with namespaces (prefixed and default, declared and
    undeclared) through ``xml.dom.minidom``, ``ElementTree`` (``iterparse``
    with namespace events, and a round trip) and ``xml.sax`` with and
    without namespace processing: what each library reports."""

    def process(self, data):
        import io
        import xml.dom.minidom
        import xml.etree.ElementTree as ET
        import xml.sax
        import xml.sax.handler
        doc = ('<p:a xmlns="urn:d" xmlns:p="urn:p" p:x="1" y="2"><b/>'
               '<p:c><d xmlns=""/><q:e xmlns:q="urn:q" q:z="3"/></p:c></p:a>')
        dom = xml.dom.minidom.parseString(doc)
        root = dom.documentElement
        out = [root.toxml(), root.prefix, root.tagName, root.namespaceURI,
               [(n.tagName, n.prefix, n.localName, n.namespaceURI) for n in dom.getElementsByTagName("*")]]
        out.append([(event, item if event.endswith("-ns") else getattr(item, "tag", item))
                    for event, item in ET.iterparse(io.StringIO(doc), events=("start", "end", "start-ns", "end-ns"))])
        out.append(ET.tostring(ET.fromstring(doc)).decode())

        class Seen(xml.sax.handler.ContentHandler):
            def __init__(self):
                super().__init__()
                self.seen = []

            def startElement(self, name, attrs):
                self.seen.append(("start", name, sorted(attrs.items())))

            def endElement(self, name):
                self.seen.append(("end", name))

            def startElementNS(self, name, qname, attrs):
                self.seen.append(("start", name, qname, sorted(attrs.items(), key=repr)))

            def endElementNS(self, name, qname):
                self.seen.append(("end", name, qname))

            def startPrefixMapping(self, prefix, uri):
                self.seen.append(("map", prefix, uri))

            def endPrefixMapping(self, prefix):
                self.seen.append(("unmap", prefix))

        plain = Seen()
        xml.sax.parseString(doc.encode(), plain)
        out.append(plain.seen)
        spaced = Seen()
        parser = xml.sax.make_parser()
        parser.setFeature(xml.sax.handler.feature_namespaces, True)
        parser.setContentHandler(spaced)
        parser.parse(io.StringIO(doc))
        out.append(spaced.seen)
        return repr(out)
