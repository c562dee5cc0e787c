"""The packed form of values, CPython's side: what a ``process-packed`` batch
carries (``wit/node.wit``; the Rust side is ``nodehost_sdk::codec::packed``,
whose table of tags and payloads this follows).

A batch of plain inputs (ints, floats, strs, bytes) crosses as one block of
bytes each way, where ``process-batch`` makes componentize-py lift and lower
a variant per input and per output, several thousand instructions each.
The host sends a batch here only when its inputs are such scalars (lists,
maps, audio and arrays go as ``process-batch``, where marshal and packed
buffers read them in one C call); outputs may be anything a node returns,
by the same rules and with the same refusals as ``_nodehost_values.from_py``.

The decoder reads what the host wrote and checks what it reads (tags,
lengths, UTF-8, map keys, shapes) all the same, raising ``Unsupported``.
"""

import struct as _struct

import _nodehost_values as values

Unsupported = values.Unsupported

_NULL, _FALSE, _TRUE, _INT, _FLOAT, _STR, _BYTES, _LIST, _MAP, _BIG, _AUDIO, _ARRAY = range(12)

_Q = _struct.Struct("<q")
_D = _struct.Struct("<d")
_I = _struct.Struct("<I")
_H = _struct.Struct("<H")
_TAG_Q = _struct.Struct("<Bq")
_TAG_D = _struct.Struct("<Bd")
_TAG_I = _struct.Struct("<BI")
_II = _struct.Struct("<II")
_unpack_q = _Q.unpack_from
_unpack_d = _D.unpack_from
_unpack_i = _I.unpack_from
_unpack_h = _H.unpack_from
_pack_tag_q = _TAG_Q.pack
_pack_tag_d = _TAG_D.pack
_pack_tag_i = _TAG_I.pack
_pack_i = _I.pack
_pack_ii = _II.pack

_I64_MIN = values._I64_MIN
_I64_MAX = values._I64_MAX
MAX_DEPTH = values.MAX_DEPTH
_NULL_BYTE = bytes([_NULL])
_FALSE_BYTE = bytes([_FALSE])
_TRUE_BYTE = bytes([_TRUE])

# Array kinds by their byte, and back.
_CODE_OF_KIND = {0: "f", 1: "d", 2: "q"}
_KIND_OF = {values._F32: 0, values._F64: 1, values._I64: 2}


# ---------------------------------------------------------------------------
# packed -> Python


def _need(data, pos, n):
    if pos + n > len(data):
        raise Unsupported("packed value ends at byte %d, %d bytes short" % (len(data), pos + n - len(data)))


def _length(data, pos):
    _need(data, pos, 4)
    return _unpack_i(data, pos)[0]


def _text(data, pos, what):
    n = _length(data, pos)
    pos += 4
    _need(data, pos, n)
    try:
        return str(data[pos:pos + n], "utf-8"), pos + n
    except UnicodeDecodeError:
        raise Unsupported("%s at byte %d is not UTF-8" % (what, pos)) from None


def _numbers(data, pos, code, what):
    count = _length(data, pos)
    pos += 4
    buffer = values._buffer(code)
    size = count * buffer.itemsize
    _need(data, pos, size)
    buffer.frombytes(data[pos:pos + size])
    return buffer, pos + size


def decode(data, pos, depth=1):
    """The value packed at ``pos`` of ``data`` and the position after it."""
    if depth > MAX_DEPTH:
        raise Unsupported("value nested deeper than %d levels" % MAX_DEPTH)
    _need(data, pos, 1)
    tag = data[pos]
    pos += 1
    if tag == _INT:
        _need(data, pos, 8)
        return _unpack_q(data, pos)[0], pos + 8
    if tag == _FLOAT:
        _need(data, pos, 8)
        return _unpack_d(data, pos)[0], pos + 8
    if tag == _STR:
        return _text(data, pos, "str")
    if tag == _NULL:
        return None, pos
    if tag == _FALSE:
        return False, pos
    if tag == _TRUE:
        return True, pos
    if tag == _BYTES:
        n = _length(data, pos)
        pos += 4
        _need(data, pos, n)
        return bytes(data[pos:pos + n]), pos + n
    if tag == _LIST:
        count = _length(data, pos)
        pos += 4
        items = []
        for _ in range(count):
            item, pos = decode(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if tag == _MAP:
        count = _length(data, pos)
        pos += 4
        mapping = {}
        for _ in range(count):
            key, pos = _text(data, pos, "map key")
            if key in mapping:
                raise Unsupported("map key %s appears twice" % values._debug_str(key))
            mapping[key], pos = decode(data, pos, depth + 1)
        return mapping, pos
    if tag == _BIG:
        _need(data, pos, 1)
        negative = data[pos]
        n = _length(data, pos + 1)
        pos += 5
        _need(data, pos, n)
        magnitude = int.from_bytes(data[pos:pos + n], "little")
        return (-magnitude if negative else magnitude), pos + n
    if tag == _AUDIO:
        _need(data, pos, 6)
        sample_rate = _unpack_i(data, pos)[0]
        channels = _unpack_h(data, pos + 4)[0]
        samples, pos = _numbers(data, pos + 6, "f", "audio samples")
        if channels == 0:
            raise Unsupported("audio frame with 0 channels")
        if len(samples) % channels:
            raise Unsupported("audio frame of %d samples does not divide into %d channels" % (len(samples), channels))
        return values._AudioFrame(samples, sample_rate, channels), pos
    if tag == _ARRAY:
        _need(data, pos, 1)
        code = _CODE_OF_KIND.get(data[pos])
        if code is None:
            raise Unsupported("array of unknown kind %d at byte %d" % (data[pos], pos))
        dims = _length(data, pos + 1)
        pos += 5
        _need(data, pos, 4 * dims)
        shape = tuple(_unpack_i(data, pos + 4 * k)[0] for k in range(dims))
        elements, pos = _numbers(data, pos + 4 * dims, code, "array data")
        if not values._shape_holds(shape, len(elements)):
            raise Unsupported("array of %d elements does not have shape %s" % (len(elements), list(shape)))
        return values._Array(elements, shape), pos
    raise Unsupported("unknown tag %d at byte %d of a packed value" % (tag, pos - 1))


# ---------------------------------------------------------------------------
# Python -> packed


def _put_bytes(tag, data, out):
    out.append(tag)
    _put_bytes_untagged(data, out)


def _put_count(tag, n, out):
    if n >= values._U32_END:
        raise Unsupported("a list or map of %d items (the limit is 2**32 - 1)" % n)
    out += _pack_tag_i(tag, n)


def _put_int(obj, out):
    if _I64_MIN <= obj <= _I64_MAX:
        out += _pack_tag_q(_INT, obj)
        return
    negative = obj < 0
    magnitude = -obj if negative else obj
    out.append(_BIG)
    out.append(1 if negative else 0)
    _put_bytes_untagged(magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "little"), out)


def _put_bytes_untagged(data, out):
    if len(data) >= values._U32_END:
        raise Unsupported("a value part of %d bytes (the limit is 4 GiB)" % len(data))
    out += _pack_i(len(data))
    out += data


def _put_numbers(buffer, out):
    out += _pack_i(len(buffer))
    out += buffer.tobytes()


def _encode(obj, out, depth):
    if depth > MAX_DEPTH:
        raise Unsupported(values._DEEP)
    kind = values._kind(obj)
    if kind == values._INT:
        _put_int(obj if type(obj) is int else int.__int__(obj), out)
    elif kind == values._FLOAT:
        out += _pack_tag_d(_FLOAT, values._float(obj))
    elif kind == values._STR:
        _put_bytes(_STR, values._str(obj).encode("utf-8"), out)
    elif kind == values._NULL:
        out += _NULL_BYTE
    elif kind == values._BOOL:
        out += _TRUE_BYTE if obj else _FALSE_BYTE
    elif kind == values._BYTES:
        _put_bytes(_BYTES, values._bytes(obj), out)
    elif kind == values._LIST:
        items = list(obj)
        _put_count(_LIST, len(items), out)
        for item in items:
            _encode(item, out, depth + 1)
    elif kind == values._DICT:
        entries = list(obj.items()) if type(obj) is not dict else obj.items()
        _put_count(_MAP, len(entries), out)
        for key, item in entries:
            if not isinstance(key, str):
                raise Unsupported("dict key of type '%s' (keys must be str)" % type(key).__name__)
            _put_bytes_untagged(values._str(key, "dict key with lone surrogates").encode("utf-8"), out)
            _encode(item, out, depth + 1)
    elif kind == values._AUDIO:
        samples, sample_rate, channels = values._audio_parts(obj)
        out.append(_AUDIO)
        out += _pack_i(sample_rate)
        out += _H.pack(channels)
        _put_numbers(samples, out)
    else:
        kind, data, shape = values._array_parts(obj)
        out.append(_ARRAY)
        out.append(_KIND_OF[kind])
        out += _pack_i(len(shape))
        for d in shape:
            out += _pack_i(d)
        _put_numbers(data, out)


def encode(obj, out):
    """Append ``obj`` packed to the bytearray ``out``; raises Unsupported
    (leaving part of it in ``out``) when it cannot cross."""
    cls = type(obj)
    # The common scalars first, without the generic dispatch.
    if cls is int and _I64_MIN <= obj <= _I64_MAX:
        out += _pack_tag_q(_INT, obj)
    elif cls is float:
        out += _pack_tag_d(_FLOAT, obj)
    elif cls is str and obj.isascii():
        out += _pack_tag_i(_STR, len(obj))
        out += obj.encode("ascii")
    else:
        _encode(obj, out, 1)


def answer_header(count, length):
    """The frame of one input's answer: its outputs' count and bytes."""
    return _pack_ii(count, length)


# One input's whole answer of one output, in one call: the frame (count,
# length), the tag, and an int, a float, or a str's length (its bytes
# follow).
pack_int_answer = _struct.Struct("<IIBq").pack
pack_float_answer = _struct.Struct("<IIBd").pack
pack_str_answer = _struct.Struct("<IIBI").pack
