"""Converting between the WIT ``value`` (``wit/node.wit``) and Python objects.

The rules are those of the RustPython guest (``guest-python/src/convert.rs``
with the SDK's table codec, ``guest-rust/sdk/src/component.rs``), so a node
sees the same objects and gives the same values on either interpreter:

- null, bool, int, float, str and bytes travel as themselves (bytearray
  goes out as bytes); an int outside the signed 64-bit range travels as a
  ``big-integer`` (sign and little-endian magnitude bytes), exactly;
- a list or dict (str keys) travels as a ``nested`` table whose entry 0 is
  the root and whose children always come after their parent; tuples go out
  as lists;
- audio frames and numeric arrays become ``nodehost.AudioFrame`` and
  ``nodehost.Array`` over ``array.array`` buffers ('f', 'd', 'q').

The component asks the host (``configure``) for the fast forms: a list or
map arrives as ``python-marshal-raw`` data, one ``marshal.loads``, and
audio and arrays as packed bytes, one copy each, where the plain forms cost
a Python object per table entry or sample. It sends the same forms back: a
list or dict of plain objects goes out as ``marshal.dumps(obj, 2)`` (a
call's one answer in the short form ``one-python-marshal``, see
``runtime.Node._collect``: each level of variant componentize-py lowers
costs about 7,000 instructions), which the host
checks against the same rules (and names the class in a refusal); one that
marshal refuses (an ``AudioFrame`` inside, a subclass such as ``IntEnum``
or ``OrderedDict``, or nesting past marshal's own limit, as in a list that
contains itself) goes out as a table, as before, and is refused there.
Large packed blocks of a call's outputs (marshal data, samples, array
data) are staged: written to stdout, which carries nothing else here (see
``_packed``).
Format 2 has no references: it copies a part the value holds twice, and
is three times as fast to write as format 4 for a list of ints (measured
in the sandbox: 6.5 against 23 µs for 100 ints), which would look up
every object in a table of those already written. marshal writes any
object with the buffer protocol as bytes, so a ``memoryview`` or
``array.array`` inside a list arrives as ``bytes`` here, where the other
Python runtimes refuse it.

Anything else raises ``Unsupported`` with the reason, which the caller turns
into a ``node-error`` of kind ``unsupported-value``.
"""

import array as _array
import marshal as _marshal
import os as _os

import nodehost
from wit_world.imports import types as t

# How deeply lists and maps may nest (the SDK's MAX_DEPTH).
MAX_DEPTH = 128

SUPPORTED = "None, bool, int, float, str, bytes, list, tuple, dict with str keys, AudioFrame, Array"

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_U32_END = 1 << 32

_AudioFrame = nodehost.AudioFrame
_Array = nodehost.Array
_buffer = _array.array
_loads = _marshal.loads
_dumps = _marshal.dumps
_write = _os.write


class Unsupported(Exception):
    """A value that cannot cross the boundary; the message says why."""


# ---------------------------------------------------------------------------
# WIT -> Python


def _audio_to_py(frame):
    channels = frame.channels
    samples = frame.samples
    if channels == 0:
        raise Unsupported("audio frame with 0 channels")
    if len(samples) % channels:
        raise Unsupported("audio frame of %d samples does not divide into %d channels" % (len(samples), channels))
    return _AudioFrame(_buffer("f", samples), frame.sample_rate, channels)


_ARRAY_CODES = {t.ArrayData_F32: "f", t.ArrayData_F64: "d", t.ArrayData_I64: "q"}
_KIND_CODES = {t.NumberKind.F32: "f", t.NumberKind.F64: "d", t.NumberKind.I64: "q"}


_Raw = t.PackedBytes_Raw
_Latin1 = t.PackedBytes_Latin1
_Staged = t.PackedBytes_Staged
_StagedRange = t.StagedRange


def _bytes_of(packed):
    """The bytes of a WIT ``packed-bytes``: raw, or Latin-1 text (the host
    sends nothing staged)."""
    cls = type(packed)
    if cls is _Raw:
        return packed.value
    if cls is _Latin1:
        return packed.value.encode("latin-1")
    raise Unsupported("packed bytes of an unexpected form (%s)" % cls.__name__)


# Blocks of this many bytes or more are staged when one of their bytes is
# above 0x7f, and all blocks from STAGE_ASCII_MIN on. (Measured here: 1 KiB
# of ASCII bytes crossed in 11.6 µs as text and 15 µs staged, 1 MiB of them
# in 1.35 ms as text and 0.7 ms staged; a 1,920-byte audio frame in 37 µs
# as text and 32 µs staged.)
STAGE_MIN = 1024
STAGE_ASCII_MIN = 1 << 16


class Staging:
    """Whether the outputs of a call are being converted (only they may be
    staged: the runtime sets ``on`` and zeroes ``offset`` for each answer),
    and how many bytes the answer has staged so far. One instance,
    ``STAGING``: setting an attribute of a class would invalidate CPython's
    type caches, 1,000 instructions each, three times a call."""

    __slots__ = ("on", "offset")

    def __init__(self):
        self.on = False
        self.offset = 0


STAGING = Staging()


def _packed(data):
    """Bytes to send back as a ``packed-bytes``. componentize-py 0.25.1
    leaks a returned ``list<u8>`` (its size on every call) and encodes a
    returned ``str`` as UTF-8, 5-10 ns a byte above 0x7f. So a block of
    output with such bytes is written to stdout (the host asked for that
    with ``staged-bytes``: one copy, a host call per 64 KiB) and named by
    where it is in what the call wrote; the rest goes as Latin-1 text."""
    n = len(data)
    staging = STAGING
    if staging.on and n >= STAGE_MIN and (n >= STAGE_ASCII_MIN or not data.isascii()):
        offset = staging.offset
        view = memoryview(data)
        written = 0
        while written < n:
            written += _write(1, view[written:])
        staging.offset = offset + n
        return _Staged(_StagedRange(offset, n))
    return _Latin1(data.decode("latin-1"))


def _unpack(code, packed, what):
    """An array.array of ``code`` over packed little-endian bytes (wasm is
    little-endian, as array.array's native order is here)."""
    data = _bytes_of(packed)
    buffer = _buffer(code)
    if len(data) % buffer.itemsize:
        raise Unsupported("packed %s of %d bytes is not a whole number of %d-byte numbers"
                          % (what, len(data), buffer.itemsize))
    buffer.frombytes(data)
    return buffer


def _packed_audio_to_py(frame):
    channels = frame.channels
    if channels == 0:
        raise Unsupported("audio frame with 0 channels")
    samples = _unpack("f", frame.samples, "audio samples")
    if len(samples) % channels:
        raise Unsupported("audio frame of %d samples does not divide into %d channels" % (len(samples), channels))
    return _AudioFrame(samples, frame.sample_rate, channels)


def _packed_array_to_py(a):
    data = _unpack(_KIND_CODES[a.kind], a.data, "array data")
    shape = a.shape
    if not _shape_holds(shape, len(data)):
        raise Unsupported("array of %d elements does not have shape %s" % (len(data), list(shape)))
    return _Array(data, tuple(shape))


def _shape_holds(shape, n):
    product = 1
    for d in shape:
        product *= d
    return product == n


def _array_to_py(a):
    data = a.data.value
    shape = a.shape
    if not _shape_holds(shape, len(data)):
        raise Unsupported("array of %d elements does not have shape %s" % (len(data), list(shape)))
    return _Array(_buffer(_ARRAY_CODES[type(a.data)], data), tuple(shape))


def _big_to_py(b):
    n = int.from_bytes(b.magnitude, "little")
    return -n if b.negative else n


def _debug_str(s):
    """A string quoted the way Rust's `{:?}` quotes it (near enough)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _table_to_py(nodes):
    """Decode a nested value's table, checking what a careless host could get
    wrong: every index points forward and within the table, every entry is
    used exactly once, nesting stays within MAX_DEPTH, map keys are unique
    and typed buffers consistent. One backward pass, no recursion."""
    n = len(nodes)
    if n == 0:
        raise Unsupported("empty value table")
    # slots[i] is (value, depth) once entry i is decoded, None once taken.
    slots = [None] * n
    List, Map = t.ValueNode_List, t.ValueNode_Map

    def take(parent, child):
        if child <= parent or child >= n:
            raise Unsupported(
                "value table entry %d refers to entry %d: children must come after their parent and within the table"
                % (parent, child))
        slot = slots[child]
        if slot is None:
            raise Unsupported("value table entry %d is used twice" % child)
        slots[child] = None
        return slot

    for i in range(n - 1, -1, -1):
        node = nodes[i]
        cls = type(node)
        if cls is List:
            items = []
            depth = 0
            for child in node.value:
                value, d = take(i, child)
                if d > depth:
                    depth = d
                items.append(value)
            slot = (items, depth + 1)
        elif cls is Map:
            pairs = []
            depth = 0
            for entry in node.value:
                value, d = take(i, entry.value)
                if d > depth:
                    depth = d
                pairs.append((entry.key, value))
            mapping = {}
            for key, value in pairs:
                if key in mapping:
                    raise Unsupported("map key %s appears twice" % _debug_str(key))
                mapping[key] = value
            slot = (mapping, depth + 1)
        elif cls is t.ValueNode_IntList or cls is t.ValueNode_FloatList:
            # A packed list of numbers.
            slot = (list(node.value), 2)
        elif cls is t.ValueNode_Null:
            slot = (None, 1)
        elif cls is t.ValueNode_Audio:
            slot = (_audio_to_py(node.value), 1)
        elif cls is t.ValueNode_Array:
            slot = (_array_to_py(node.value), 1)
        elif cls is t.ValueNode_PackedAudio:
            slot = (_packed_audio_to_py(node.value), 1)
        elif cls is t.ValueNode_PackedArray:
            slot = (_packed_array_to_py(node.value), 1)
        elif cls is t.ValueNode_BigInteger:
            slot = (_big_to_py(node.value), 1)
        else:
            # boolean, integer, float, text, bytes
            slot = (node.value, 1)
        if slot[1] > MAX_DEPTH:
            raise Unsupported("value nested deeper than %d levels" % MAX_DEPTH)
        slots[i] = slot
    for j in range(1, n):
        if slots[j] is not None:
            raise Unsupported("value table entry %d is not part of the value" % j)
    return slots[0][0]


def to_py(value):
    """A WIT value as a new Python object; raises Unsupported for a table or
    buffer the host got wrong."""
    cls = type(value)
    if cls is t.Value_PythonMarshalRaw:
        # The host writes lists, dicts and plain scalars only.
        return _loads(value.value)
    if cls is t.Value_PythonMarshal:
        return _loads(_bytes_of(value.value))
    if cls is t.Value_Null:
        return None
    if cls is t.Value_PackedAudio:
        return _packed_audio_to_py(value.value)
    if cls is t.Value_PackedArray:
        return _packed_array_to_py(value.value)
    if cls is t.Value_Nested:
        return _table_to_py(value.value)
    if cls is t.Value_Audio:
        return _audio_to_py(value.value)
    if cls is t.Value_Array:
        return _array_to_py(value.value)
    if cls is t.Value_BigInteger:
        return _big_to_py(value.value)
    # boolean, integer, float, text, bytes
    return value.value


# ---------------------------------------------------------------------------
# Python -> WIT

# Kinds of Python objects, checked in the RustPython guest's order.
_NULL, _BOOL, _INT, _FLOAT, _STR, _BYTES, _LIST, _DICT, _AUDIO, _ARRAY = range(10)

_EXACT_KINDS = {
    type(None): _NULL,
    bool: _BOOL,
    int: _INT,
    float: _FLOAT,
    str: _STR,
    bytes: _BYTES,
    bytearray: _BYTES,
    list: _LIST,
    tuple: _LIST,
    dict: _DICT,
    _AudioFrame: _AUDIO,
    _Array: _ARRAY,
}


def _kind(obj):
    kind = _EXACT_KINDS.get(type(obj))
    if kind is not None:
        return kind
    # Subclasses, in the order the RustPython guest checks them.
    if isinstance(obj, int):
        return _INT
    if isinstance(obj, float):
        return _FLOAT
    if isinstance(obj, str):
        return _STR
    if isinstance(obj, (bytes, bytearray)):
        return _BYTES
    if isinstance(obj, (list, tuple)):
        return _LIST
    if isinstance(obj, dict):
        return _DICT
    if isinstance(obj, _AudioFrame):
        return _AUDIO
    if isinstance(obj, _Array):
        return _ARRAY
    raise Unsupported("type '%s' (supported: %s)" % (type(obj).__name__, SUPPORTED))


def _big(obj):
    """An exact int outside the signed 64-bit range as a WIT ``big-int``:
    sign and minimal little-endian magnitude (bytes, not decimal text)."""
    negative = obj < 0
    magnitude = -obj if negative else obj
    return t.BigInt(negative, magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "little"))


def _int_node(obj):
    if type(obj) is not int:
        obj = int.__int__(obj)
    if _I64_MIN <= obj <= _I64_MAX:
        return t.ValueNode_Integer(obj)
    return t.ValueNode_BigInteger(_big(obj))


def _int_value(obj):
    if type(obj) is not int:
        obj = int.__int__(obj)
    if _I64_MIN <= obj <= _I64_MAX:
        return t.Value_Integer(obj)
    return t.Value_BigInteger(_big(obj))


def _float(obj):
    return obj if type(obj) is float else float.__float__(obj)


def _str(obj, surrogates="str with lone surrogates is not valid UTF-8"):
    if type(obj) is not str:
        obj = str.__str__(obj)
    if not obj.isascii():
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            raise Unsupported(surrogates) from None
    return obj


def _bytes(obj):
    return obj if type(obj) is bytes else bytes(memoryview(obj))


# Numeric data (AudioFrame.samples, Array.data), by the SDK's rules
# (guest-rust/sdk/src/python.rs), with the same words: an array.array by
# its typecode, or a list or tuple of numbers. Each gives an array.array of
# 'f', 'd' or 'q', whose bytes are the packed form.
_F32, _F64, _I64 = "f32", "f64", "i64"
_SIGNED = frozenset("bhilq")
_UNSIGNED = frozenset("BHILQ")
_ARRAY_HINT = " (numeric data is i64 or floats; a plain list carries any int)"


def _element_too_wide(bits):
    return "array element: int of %d bits does not fit in a signed 64-bit int" % bits + _ARRAY_HINT


def _type_name(obj):
    return type(obj).__name__


def _numbers(obj):
    """(kind, array.array of 'f', 'd' or 'q') from numeric data."""
    if isinstance(obj, _buffer):
        code = obj.typecode
        if code == "f":
            return _F32, obj if type(obj) is _buffer else _buffer("f", obj)
        if code == "d":
            return _F64, obj if type(obj) is _buffer else _buffer("d", obj)
        if code == "q" and type(obj) is _buffer:
            return _I64, obj
        if code in _SIGNED:
            return _I64, _buffer("q", obj)
        if code in _UNSIGNED:
            if obj.itemsize >= 8:
                for x in obj:
                    if x > _I64_MAX:
                        raise Unsupported(_element_too_wide(x.bit_length()))
            return _I64, _buffer("q", obj)
        raise Unsupported("array of typecode '%s' (use 'f', 'd', 'q' or another integer typecode)" % code)
    if not isinstance(obj, (list, tuple)):
        raise Unsupported("numbers must be an array.array, list or tuple, not '%s'" % _type_name(obj))
    all_ints = bool(obj)
    numbers = []
    for x in obj:
        if isinstance(x, bool):
            numbers.append(1.0 if x else 0.0)
            all_ints = False
        elif isinstance(x, int):
            x = int.__int__(x)
            if x < _I64_MIN or x > _I64_MAX:
                raise Unsupported(_element_too_wide(x.bit_length()))
            numbers.append(x)
        elif isinstance(x, float):
            numbers.append(float.__float__(x))
            all_ints = False
        else:
            raise Unsupported("array element of type '%s' is not a number" % _type_name(x))
    if all_ints:
        return _I64, _buffer("q", numbers)
    return _F64, _buffer("d", numbers)


def _bounded_int(obj, what, bits):
    """An int (not a bool) in 0..2**bits."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        n = int.__int__(obj)
        if 0 <= n and n >> bits == 0:
            return n
        if _I64_MIN <= n <= _I64_MAX:
            raise Unsupported("%s must be in 0..2**%d, not %d" % (what, bits, n))
        raise Unsupported("%s must be in 0..2**%d, not an int of %d bits" % (what, bits, n.bit_length()))
    raise Unsupported("%s must be an int in 0..2**%d, not '%s'" % (what, bits, _type_name(obj)))


def _audio_parts(obj):
    """(samples as array.array('f'), sample rate, channels) of an
    ``AudioFrame``, checked."""
    raw = obj.samples
    if type(raw) is _buffer and raw.typecode == "f":
        # The common case, and one copy: the samples are already f32.
        samples = raw
    else:
        kind, samples = _numbers(raw)
        if kind is not _F32:
            samples = _buffer("f", samples)
    sample_rate = _bounded_int(obj.sample_rate, "AudioFrame.sample_rate", 32)
    channels = _bounded_int(obj.channels, "AudioFrame.channels", 16)
    if channels == 0:
        raise Unsupported("audio frame with 0 channels")
    if len(samples) % channels:
        raise Unsupported("audio frame of %d samples does not divide into %d channels" % (len(samples), channels))
    return samples, sample_rate, channels


def _audio_from_py(obj):
    samples, sample_rate, channels = _audio_parts(obj)
    return t.PackedAudioFrame(_packed(samples.tobytes()), sample_rate, channels)


_PACKED_KINDS = {_F32: t.NumberKind.F32, _F64: t.NumberKind.F64, _I64: t.NumberKind.I64}


def _array_parts(obj):
    """(kind, data as array.array, shape as a list) of an ``Array``, checked."""
    kind, data = _numbers(obj.data)
    dims = obj.shape
    if not isinstance(dims, (list, tuple)):
        raise Unsupported("Array.shape must be a tuple of ints, not '%s'" % _type_name(dims))
    shape = [_bounded_int(d, "Array.shape item", 32) for d in dims]
    if not _shape_holds(shape, len(data)):
        raise Unsupported("array of %d elements does not have shape %s" % (len(data), shape))
    return kind, data, shape


def _array_from_py(obj):
    kind, data, shape = _array_parts(obj)
    return t.PackedNumArray(_PACKED_KINDS[kind], _packed(data.tobytes()), shape)


# Scalar kinds: (payload conversion, Value case, ValueNode case).
_SCALARS = {
    _BOOL: (bool, t.Value_Boolean, t.ValueNode_Boolean),
    _FLOAT: (_float, t.Value_Float, t.ValueNode_Float),
    _STR: (_str, t.Value_Text, t.ValueNode_Text),
    _BYTES: (_bytes, t.Value_Bytes, t.ValueNode_Bytes),
    _AUDIO: (_audio_from_py, t.Value_PackedAudio, t.ValueNode_PackedAudio),
    _ARRAY: (_array_from_py, t.Value_PackedArray, t.ValueNode_PackedArray),
}

_DEEP = "value nested deeper than %d levels (a list or dict that contains itself?)" % MAX_DEPTH


def _pack(obj):
    """A list of two or more exact ints that fit in 64 bits, or of two or
    more exact floats, as one packed table entry; else None."""
    if type(obj) is not list or len(obj) < 2:
        return None
    first = type(obj[0])
    if first is int:
        for x in obj:
            if type(x) is not int or x < _I64_MIN or x > _I64_MAX:
                return None
        return t.ValueNode_IntList(list(obj))
    if first is float:
        for x in obj:
            if type(x) is not float:
                return None
        return t.ValueNode_FloatList(list(obj))
    return None


def _encode(obj, depth, nodes):
    """Append ``obj`` and everything in it to the table ``nodes``."""
    if depth > MAX_DEPTH:
        raise Unsupported(_DEEP)
    kind = _kind(obj)
    if kind == _LIST:
        # Packed only where its items may still nest one level deeper.
        packed = _pack(obj) if depth < MAX_DEPTH else None
        if packed is not None:
            nodes.append(packed)
            return
        at = len(nodes)
        nodes.append(None)
        children = []
        depth += 1
        for item in list(obj):
            children.append(len(nodes))
            _encode(item, depth, nodes)
        nodes[at] = t.ValueNode_List(children)
    elif kind == _DICT:
        at = len(nodes)
        nodes.append(None)
        entries = []
        depth += 1
        for key, item in list(obj.items()) if type(obj) is not dict else obj.items():
            if not isinstance(key, str):
                raise Unsupported("dict key of type '%s' (keys must be str)" % type(key).__name__)
            entries.append(t.MapEntry(_str(key, "dict key with lone surrogates"), len(nodes)))
            _encode(item, depth, nodes)
        nodes[at] = t.ValueNode_Map(entries)
    elif kind == _NULL:
        nodes.append(t.ValueNode_Null())
    elif kind == _INT:
        nodes.append(_int_node(obj))
    else:
        convert, _, case = _SCALARS[kind]
        nodes.append(case(convert(obj)))


def from_py(obj):
    """A Python object as a WIT value; raises Unsupported with the reason
    when it cannot cross (and lets a Python exception raised while looking
    at it propagate)."""
    # The common scalars first, without the generic dispatch.
    cls = type(obj)
    if cls is int:
        if _I64_MIN <= obj <= _I64_MAX:
            return t.Value_Integer(obj)
        return t.Value_BigInteger(_big(obj))
    if cls is float:
        return t.Value_Float(obj)
    if cls is str:
        return t.Value_Text(_str(obj))
    if obj is None:
        return t.Value_Null()
    if cls is list or cls is dict or cls is tuple or cls is bytes or cls is bytearray:
        # One C call; the host checks it against the rules. marshal
        # refuses what is not plain (subclasses, AudioFrame, Array): those
        # go as a table. (bytes go this way too, as text: a returned
        # `bytes` case would leak, see _packed.)
        try:
            return t.Value_PythonMarshal(_packed(_dumps(obj, 2)))
        except ValueError:
            pass
        except MemoryError:
            # Parts shared so often that the copy does not fit.
            raise Unsupported("the value does not fit in the node's memory once its shared parts are copied") from None
    kind = _kind(obj)
    if kind == _LIST or kind == _DICT:
        nodes = []
        _encode(obj, 1, nodes)
        return t.Value_Nested(nodes)
    if kind == _INT:
        return _int_value(obj)
    convert, case, _ = _SCALARS[kind]
    return case(convert(obj))


def type_name(obj):
    """The pipeline's name for the type of a value decoded by ``to_py``."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, dict):
        return "map"
    if isinstance(obj, list):
        return "list"
    if isinstance(obj, _AudioFrame):
        return "audio"
    if isinstance(obj, _Array):
        return "array"
    return {int: "int", float: "float", str: "str", bytes: "bytes"}.get(type(obj), type(obj).__name__)
