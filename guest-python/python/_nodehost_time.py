"""``time`` in the sandbox as CPython on Linux (glibc, the C locale) gives it.

Imported by ``nodehost`` on WASI and on RustPython, where it changes the
``time`` module in place:

- RustPython 0.6 on wasm32 formats ``strftime`` with the ``jiff`` crate, whose
  ``%c`` and ``%x`` are not C's (``2024 M07 4, Thu 09:05:03``), which has no
  ``%Z``/``%z`` for a naive time (the format came back unchanged), and which
  ignores the tuple's weekday and day of the year. ``_strptime`` builds its
  patterns from ``strftime``, so ``strptime("%c")`` failed too. Its
  ``gmtime``/``localtime`` counted weekdays from Sunday, and ``asctime``
  took the weekday from the date rather than from the tuple.
- Neither sandbox has a CPU clock: RustPython raised ``NotImplementedError``
  for ``process_time`` and ``thread_time``, CPython's WASI build has no
  ``thread_time``, and its ``process_time`` (the C library's ``clock()``)
  counts from when the libc started, which in a snapshot is when the
  snapshot was made, so it read negative. Both count the monotonic clock
  here, which the host starts at zero for each node's instance (a node's
  instance runs on one thread, and only while it is called).
- ``gmtime`` names its zone ``GMT``, as glibc does (WASI's libc and
  RustPython say ``UTC``).

Everything here is the C library's behaviour, written in Python: the
directives, flags (``-``, ``_``, ``0``, ``^``, ``#``), widths and ``E``/``O``
modifiers of glibc's ``strftime`` in the C locale, and CPython's checks of
the time tuple with their messages.
"""

import operator
import sys
import time

_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")
# Conversions glibc takes an E or an O modifier before (the C locale
# ignores both); before any other, the directive is written as it is.
_E_OK = frozenset("cCnpPrRstTuxXyYzZ%")
_O_OK = frozenset("bBCdegGhHIjklmMnpPrRsStTuUVwWyzZ%")
_COMPOSITE = {"c": "%a %b %e %H:%M:%S %Y", "D": "%m/%d/%y", "x": "%m/%d/%y", "X": "%H:%M:%S",
              "T": "%H:%M:%S", "R": "%H:%M", "r": "%I:%M:%S %p"}
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_JUST_INT = {int}
# Zero-padded two-digit numbers, looked up rather than formatted.
_TWO = tuple("%02d" % i for i in range(100))
# The common conversions with no flag or width, each the text `_convert`
# gives, in fewer steps (in the RustPython sandbox each step of Python
# costs about a microsecond: `_convert` took 15 for one conversion).
_PLAIN = {
    "Y": lambda tm: str(tm.year),
    "m": lambda tm: _TWO[tm.mon + 1],
    "d": lambda tm: _TWO[tm.mday],
    "H": lambda tm: _TWO[tm.hour],
    "M": lambda tm: _TWO[tm.min],
    "S": lambda tm: _TWO[tm.sec],
    "y": lambda tm: _TWO[tm.year % 100],
    "e": lambda tm: "%2d" % tm.mday,
    "j": lambda tm: "%03d" % (tm.yday + 1),
    "a": lambda tm: _DAYS[tm.wday][:3],
    "A": lambda tm: _DAYS[tm.wday],
    "b": lambda tm: _MONTHS[tm.mon][:3],
    "h": lambda tm: _MONTHS[tm.mon][:3],
    "B": lambda tm: _MONTHS[tm.mon],
    "p": lambda tm: "AM" if tm.hour < 12 else "PM",
    "%": lambda tm: "%",
}


def _c_int(value):
    value = operator.index(value)
    if value > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if value < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return value


def _c_rem(a, b):
    """C's ``%``: the sign of the dividend."""
    r = abs(a) % b
    return -r if a < 0 else r


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class _Tm:
    """A ``struct tm`` as CPython's ``gettmarg`` and ``checktm`` make it from
    a time tuple: C's 0-based month, day of the year and Sunday-based
    weekday, checked with CPython's messages."""

    __slots__ = ("year", "mon", "mday", "hour", "min", "sec", "wday", "yday", "isdst", "zone", "gmtoff")

    def __init__(self, t, caller):
        if not isinstance(t, tuple):
            raise TypeError("Tuple or struct_time argument required")
        if len(t) != 9 and not isinstance(t, time.struct_time):
            raise TypeError("%s(): illegal time tuple argument" % caller)
        values = tuple(t)[:9]
        # Plain ints in range (the usual tuple) are taken as they are: the
        # check of each in Python was a quarter of a call's time.
        if set(map(type, values)) != _JUST_INT or min(values) < _INT_MIN or max(values) > _INT_MAX:
            values = tuple(_c_int(v) for v in values)
        year, mon, mday, hour, minute, sec, wday, yday, isdst = values
        self.year, self.mday, self.hour, self.min, self.sec = year, mday, hour, minute, sec
        self.mon, self.yday, self.isdst = mon - 1, yday - 1, isdst
        # Python's Monday-based weekday to C's Sunday-based one, with C's %.
        self.wday = _c_rem(wday + 1, 7)
        self.zone, self.gmtoff = None, 0
        if isinstance(t, time.struct_time):
            self.zone = getattr(t, "tm_zone", None)
            gmtoff = getattr(t, "tm_gmtoff", None)
            self.gmtoff = 0 if gmtoff is None else gmtoff
        if self.mon == -1:
            self.mon = 0
        elif not 0 <= self.mon <= 11:
            raise ValueError("month out of range")
        if self.mday == 0:
            self.mday = 1
        elif not 0 <= self.mday <= 31:
            raise ValueError("day of month out of range")
        if not 0 <= self.hour <= 23:
            raise ValueError("hour out of range")
        if not 0 <= self.min <= 59:
            raise ValueError("minute out of range")
        if not 0 <= self.sec <= 61:
            raise ValueError("seconds out of range")
        if self.wday < 0:
            raise ValueError("day of week out of range")
        if self.yday == -1:
            self.yday = 0
        elif not 0 <= self.yday <= 365:
            raise ValueError("day of year out of range")


def _iso_week_days(yday, wday):
    """Days from the Monday of the ISO week that holds day ``yday`` (0-based,
    weekday ``wday``, Sunday 0) to that day's year's first Thursday's week."""
    return yday - (yday - wday + 4) % 7 + 3


def _iso_year_and_days(tm):
    year = tm.year
    days = _iso_week_days(tm.yday, tm.wday)
    if days < 0:
        year -= 1
        days = _iso_week_days(tm.yday + 365 + _is_leap(year), tm.wday)
    else:
        later = _iso_week_days(tm.yday - (365 + _is_leap(year)), tm.wday)
        if later >= 0:
            year += 1
            days = later
    return year, days


def _number(value, digits, pad, flag, width):
    """A number as glibc writes one: at least ``digits`` wide (or ``width``,
    if wider), padded with ``pad`` unless a flag says otherwise; ``-``
    drops the padding to ``digits`` (a width still pads, with spaces)."""
    if flag == "-":
        return str(value).rjust(width, " ")
    if flag == "_":
        pad = " "
    elif flag == "0":
        pad = "0"
    size = max(width, digits)
    text = str(abs(value))
    sign = "-" if value < 0 else ""
    if pad == "0":
        return sign + text.rjust(size - len(sign), "0")
    return (sign + text).rjust(size, " ")


def _text(value, flag, width, upcase=False):
    if upcase:
        value = value.upper()
    if width and len(value) < width:
        value = value.rjust(width, "0" if flag == "0" else " ")
    return value


# Formats parsed before, each a tuple of parts (see ``_parse``): a node
# formats with a few formats, many times. Bounded: emptied when full.
_PARSED = {}
_PARSED_MAX = 64


def _format(fmt, tm):
    parts = _PARSED.get(fmt)
    if parts is None:
        parts = _parse(fmt)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[fmt] = parts
    out = []
    for part in parts:
        kind = part.__class__
        if kind is str:
            out.append(part)
        elif kind is tuple:
            conv, flag, width, upper, swap, directive = part
            out.append(_convert(conv, tm, flag, width, upper, swap, directive))
        else:
            out.append(part(tm))
    return "".join(out)


def _parse(fmt):
    """``fmt`` as a tuple of parts: texts written as they are, a common
    conversion with no flag or width as its function of the ``_Tm`` (from
    ``_PLAIN``), and any other as ``(conv, flag, width, upper, swap,
    directive)`` for ``_convert``."""
    parts = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%":
            j = fmt.find("%", i)
            j = n if j < 0 else j
            parts.append(fmt[i:j])
            i = j
            continue
        start = i
        i += 1
        while i < n and fmt[i] in "-_0^#":
            i += 1
        flags_text = fmt[start + 1:i]
        upper = "^" in flags_text
        swap = "#" in flags_text
        flag = next((f for f in reversed(flags_text) if f in "-_0"), None)
        w = i
        while i < n and fmt[i].isdigit():
            i += 1
        width = int(fmt[w:i]) if i > w else 0
        modifier = None
        if i < n and fmt[i] in "EO":
            modifier = fmt[i]
            i += 1
        if i >= n:
            # A lone '%' (and its flags) at the end is written as it is.
            parts.append(fmt[start:].rjust(width, " "))
            break
        conv = fmt[i]
        i += 1
        if (modifier == "E" and conv not in _E_OK) or (modifier == "O" and conv not in _O_OK):
            parts.append(fmt[start:i].rjust(width, " "))
            continue
        plain = _PLAIN.get(conv) if flag is None and not width and not upper and not swap else None
        parts.append(plain or (conv, flag, width, upper, swap, fmt[start:i]))
    return tuple(parts)


def _convert(conv, tm, flag, width, upper, swap, directive):
    num = lambda value, digits=2, pad="0": _number(value, digits, pad, flag, width)
    if conv == "%":
        return _text("%", flag, width)
    if conv in ("a", "A"):
        name = _DAYS[tm.wday] if 0 <= tm.wday <= 6 else "?"
        return _text(name[:3] if conv == "a" else name, flag, width, upper or swap)
    if conv in ("b", "h", "B"):
        name = _MONTHS[tm.mon] if 0 <= tm.mon <= 11 else "?"
        return _text(name if conv == "B" else name[:3], flag, width, upper or swap)
    if conv in _COMPOSITE:
        return _text(_format(_COMPOSITE[conv], tm), flag, width, upper)
    if conv == "F":
        return _text("%d-%02d-%02d" % (tm.year, tm.mon + 1, tm.mday), flag, width)
    if conv == "C":
        return num(tm.year // 100, 1)
    if conv == "d":
        return num(tm.mday)
    if conv == "e":
        return num(tm.mday, 2, " ")
    if conv == "H":
        return num(tm.hour)
    if conv == "k":
        return num(tm.hour, 2, " ")
    if conv in ("I", "l"):
        hour12 = tm.hour % 12 or 12
        return num(hour12, 2, "0" if conv == "I" else " ")
    if conv == "j":
        return num(tm.yday + 1, 3)
    if conv == "m":
        return num(tm.mon + 1)
    if conv == "M":
        return num(tm.min)
    if conv == "S":
        return num(tm.sec)
    if conv == "n":
        return _text("\n", flag, width)
    if conv == "t":
        return _text("\t", flag, width)
    if conv in ("p", "P"):
        ampm = "AM" if tm.hour < 12 else "PM"
        return _text(ampm.lower() if conv == "P" or swap else ampm, flag, width)
    if conv == "s":
        seconds = int(time.mktime((tm.year, tm.mon + 1, tm.mday, tm.hour, tm.min, tm.sec,
                                   (tm.wday + 6) % 7, tm.yday + 1, tm.isdst)))
        return num(seconds, 1, " ")
    if conv == "u":
        return num((tm.wday - 1 + 7) % 7 + 1, 1)
    if conv == "w":
        return num(tm.wday, 1)
    if conv == "U":
        return num((tm.yday - tm.wday + 7) // 7)
    if conv == "W":
        return num((tm.yday - (tm.wday - 1 + 7) % 7 + 7) // 7)
    if conv in ("G", "g", "V"):
        year, days = _iso_year_and_days(tm)
        if conv == "g":
            return num((year % 100 + 100) % 100)
        if conv == "G":
            return num(year, 1)
        return num(days // 7 + 1)
    if conv == "y":
        return num((tm.year % 100 + 100) % 100)
    if conv == "Y":
        return num(tm.year, 1)
    if conv == "z":
        if tm.isdst < 0:
            return ""
        offset = tm.gmtoff
        minutes = abs(offset) // 60
        # glibc pads the sign and the digits to the width each.
        sign = ("-" if offset < 0 else "+").rjust(width, " ")
        return sign + _number(minutes // 60 * 100 + minutes % 60, 4, "0", flag, width)
    if conv == "Z":
        zone = tm.zone
        if not zone:
            zone = time.tzname[tm.isdst != 0] if tm.isdst >= 0 else ""
        return _text(zone.lower() if swap else zone, flag, width)
    # Not a conversion glibc knows: written as it is.
    return directive.rjust(width, " ")


def strftime(format, t=None, /):
    """strftime(format[, tuple]) -> string

    Convert a time tuple to a string according to a format specification,
    as the C library does in the C locale. When the time tuple is not
    present, the current time as returned by localtime() is used."""
    if not isinstance(format, str):
        raise TypeError("strftime() argument 1 must be str, not %s" % type(format).__name__)
    if "\0" in format:
        raise ValueError("embedded null character")
    tm = _Tm(time.localtime() if t is None else t, "strftime")
    tm.isdst = max(-1, min(1, tm.isdst))
    return _format(format, tm)


def asctime(t=None, /):
    """asctime([tuple]) -> string

    Convert a time tuple to a string, e.g. 'Sat Jun 06 16:26:11 1998'.
    When the time tuple is not present, the current time as returned by
    localtime() is used."""
    tm = _Tm(time.localtime() if t is None else t, "asctime")
    return _format("%a %b %e %H:%M:%S %Y", tm)


def _weekday(year, month, day):
    """Monday 0, for a date of the proleptic Gregorian calendar."""
    offsets = (0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4)
    y = year - (month < 3)
    sunday_based = (y + y // 4 - y // 100 + y // 400 + offsets[month - 1] + day) % 7
    return (sunday_based + 6) % 7


def _rebuilt(t, zone=None):
    """``t`` with its weekday from its date (and ``zone`` for its zone)."""
    fields = tuple(t)[:6] + (_weekday(t.tm_year, t.tm_mon, t.tm_mday), t.tm_yday, t.tm_isdst)
    return time.struct_time(fields + (zone if zone is not None else t.tm_zone, t.tm_gmtoff))


def install():
    """Change ``time`` in place (called once, by ``nodehost``, on WASI and on
    RustPython, whose native ``gmtime`` names its zone ``UTC`` too, and whose
    native ``strftime`` takes ``%Z`` from the C library rather than from the
    tuple). ``strftime`` and ``asctime`` are this module's everywhere it is
    installed: WASI's libc (musl's ``strftime``) knows neither glibc's ``^``
    and ``#`` flags nor widths, and CPython's WASI build gave ``""`` for a
    format with one."""
    gmtime, localtime = time.gmtime, time.localtime

    def fixed_gmtime(secs=None, /):
        return _rebuilt(gmtime() if secs is None else gmtime(secs), "GMT")

    fixed_gmtime.__doc__ = gmtime.__doc__
    time.gmtime = fixed_gmtime
    if sys.implementation.name == "rustpython":
        def fixed_localtime(secs=None, /):
            return _rebuilt(localtime() if secs is None else localtime(secs))

        fixed_localtime.__doc__ = localtime.__doc__
        time.localtime = fixed_localtime
    time.strftime = strftime
    time.asctime = asctime
    _cpu_clocks()


def _process_time_ns():
    """Nanoseconds of the monotonic clock, which the host starts at zero for
    each node's instance: the sandbox has no CPU clock."""
    return time.monotonic_ns()


def _process_time():
    """Seconds of the monotonic clock, which the host starts at zero for
    each node's instance: the sandbox has no CPU clock."""
    return time.monotonic_ns() / 1e9


def _cpu_clocks():
    # On WASI the C library's clock() (CPython's process_time there) counts
    # from when the libc started, which in a snapshot is when the snapshot
    # was made; RustPython has none. This module's count replaces both.
    if sys.platform == "wasi":
        time.process_time, time.process_time_ns = _process_time, _process_time_ns
        time.thread_time, time.thread_time_ns = _process_time, _process_time_ns
    get_clock_info = getattr(time, "get_clock_info", None)
    if get_clock_info is None:
        return

    def clock_info(name, /):
        try:
            return get_clock_info(name)
        except ValueError:
            if name not in ("process_time", "thread_time"):
                raise
        import types
        monotonic = get_clock_info("monotonic")
        return types.SimpleNamespace(implementation="monotonic clock (the sandbox has no CPU clock)",
                                     monotonic=True, adjustable=False, resolution=monotonic.resolution)

    clock_info.__doc__ = get_clock_info.__doc__
    time.get_clock_info = clock_info
