"""The ``node`` resource of the WIT ``runtime`` interface, and the state and
error helpers the component's exports share.

componentize-py looks for an exported interface's resources in the module
named after the interface, hence this module's name.
"""

import sys
import traceback as _traceback
import types as _types

import nodehost
import _nodehost
import _nodehost_packed as packed
import _nodehost_values as values
from componentize_py_types import Err, Ok
from wit_world.exports import runtime as _wit_runtime
from wit_world.imports import host as _host
from wit_world.imports import types as t

K = t.ErrorKind

# Lines kept at each end of a long traceback.
TRACEBACK_LINES = 60


class State:
    """The host's settings (see ``configure``)."""

    max_outputs = 100_000
    interruptible = False


_own_files = _nodehost.own_files
_own_files.add(__file__)
_own_files.add(values.__file__)
_own_files.add(packed.__file__)


def error(kind, message, exception_type=None, traceback=None):
    """A ``node-error`` ready to raise (componentize-py returns an ``Err``
    exception as the error case of the result)."""
    return Err(t.NodeError(kind, message, exception_type, traceback))


def shorten_traceback(text, keep=TRACEBACK_LINES):
    """A traceback cut down to its first and last ``keep`` lines when it is
    longer, with a line saying how many were left out."""
    lines = text.splitlines()
    if len(lines) <= 2 * keep + 1:
        return text
    return "%s\n  ... %d lines left out ...\n%s\n" % (
        "\n".join(lines[:keep]), len(lines) - 2 * keep, "\n".join(lines[-keep:]))


def exception_error(kind, exc):
    """A Python exception as a ``node-error`` with its type name and full
    traceback. The runtime's own frames are left out (the RustPython guest
    calls from Rust and has none), and no interruption breaks in while the
    traceback is formatted."""
    exception_type = type(exc).__name__
    try:
        text = str(exc)
    except BaseException:
        text = ""
    message = "%s: %s" % (exception_type, text) if text else exception_type
    _nodehost.suspended = True
    try:
        report = _traceback.TracebackException(type(exc), exc, exc.__traceback__)
        # The runtime's frames (where the call came in; the hook that raised
        # an interruption) are left out: the node's are what tell.
        report.stack = _traceback.StackSummary.from_list([f for f in report.stack if f.filename not in _own_files])
        formatted = "".join(report.format())
    except BaseException:
        formatted = message + "\n"
    finally:
        _nodehost.suspended = False
    return error(kind, message, exception_type, shorten_traceback(formatted))


def raised(exc):
    """The node's code raised: ``interrupted`` for the host's deadline,
    ``raised`` for anything else."""
    kind = K.INTERRUPTED if isinstance(exc, nodehost.DeadlineExceeded) else K.RAISED
    return exception_error(kind, exc)


def flush_io():
    """Send what ``print`` left in the line buffers to the host's log."""
    try:
        nodehost._flush_io()
    except BaseException:
        pass


_Generator = _types.GeneratorType
_NONE = t.Outputs_None_()
_STAGING = values.STAGING
_MarshalRaw = t.Value_PythonMarshalRaw
_OneMarshal = t.Outputs_OnePythonMarshal
_One = t.Outputs_One
_Marshal = t.Value_PythonMarshal
_packed = values._packed
_loads = values._loads
_dumps = values._dumps
_STAGE_MIN = values.STAGE_MIN
_STAGE_ASCII_MIN = values.STAGE_ASCII_MIN
_from_py = values.from_py
_decode = packed.decode
_encode_packed = packed.encode
_answer_header = packed.answer_header
_NO_ANSWER = bytes(8)
_TAG_INT = packed._INT
_TAG_FLOAT = packed._FLOAT
_TAG_STR = packed._STR
_unpack_q = packed._unpack_q
_unpack_d = packed._unpack_d
_I64_MIN = values._I64_MIN
_I64_MAX = values._I64_MAX
_pack_int_answer = packed.pack_int_answer
_pack_float_answer = packed.pack_float_answer
_pack_str_answer = packed.pack_str_answer


def _decode_input(inputs, pos):
    """The input packed at ``pos`` of a batch and the position after it."""
    try:
        return _decode(inputs, pos)
    except values.Unsupported as e:
        raise error(K.INTERNAL, "the host's packed inputs did not decode: %s" % e)
    except BaseException as e:
        raise exception_error(K.INTERNAL, e)


class Node(_wit_runtime.Node):
    """One live instance of a Python node class."""

    def __init__(self, instance):
        self._class_name = type(instance).__name__

        def method(name):
            try:
                return getattr(instance, name, None)
            except BaseException as e:
                raise raised(e)

        self._process = method("process")
        if self._process is None:
            raise error(K.INVALID_INPUT, "node has no process()")
        self._flush = method("flush")
        self._cleanup = method("cleanup")

    def process(self, input):
        try:
            # A list or map as the host sends it, without the two calls of
            # the general path.
            arg = _loads(input.value) if type(input) is _MarshalRaw else values.to_py(input)
        except values.Unsupported as e:
            raise error(K.UNSUPPORTED_VALUE, str(e))
        except Err:
            raise
        except BaseException as e:
            raise exception_error(K.INTERNAL, e)
        return self._collect(self._process, (arg,), "process")

    def process_many(self, first):
        # Each input as `process` takes it; its answer goes to the host,
        # which gives the next input back until the batch is over.
        input = first
        while input is not None:
            try:
                answer = Ok(self.process(input))
            except Err as e:
                answer = e
            input = _host.next_input(answer)

    def process_batch(self, inputs):
        # Each input as `process` takes it, until one fails (its answer is
        # the last).
        answers = []
        for input in inputs:
            try:
                answers.append(Ok(self.process(input)))
            except Err as e:
                answers.append(e)
                break
        return answers

    def process_packed(self, inputs):
        # Each input as `process` takes it, its outputs packed after those
        # of the inputs before it, until one fails: its error ends the
        # batch. (The host sends plain inputs this way, see `configure`.)
        # Ints and floats in, and an int, float, ASCII str or None out, take
        # a path of their own: at about 200 ns a Python-level call in the
        # sandbox, the general one's calls would cost more than the node.
        passed = bytearray()
        failure = None
        process = self._process
        one = State.max_outputs >= 1
        pos, end = 0, len(inputs)
        try:
            while pos < end:
                tag = inputs[pos]
                if tag == _TAG_INT and pos + 9 <= end:
                    arg = _unpack_q(inputs, pos + 1)[0]
                    pos += 9
                elif tag == _TAG_FLOAT and pos + 9 <= end:
                    arg = _unpack_d(inputs, pos + 1)[0]
                    pos += 9
                else:
                    arg, pos = _decode_input(inputs, pos)
                try:
                    result = process(arg)
                except BaseException as e:
                    raise raised(e)
                cls = type(result)
                if cls is int and one and _I64_MIN <= result <= _I64_MAX:
                    passed += _pack_int_answer(1, 9, _TAG_INT, result)
                elif cls is float and one:
                    passed += _pack_float_answer(1, 9, _TAG_FLOAT, result)
                elif cls is str and one and result.isascii():
                    n = len(result)
                    passed += _pack_str_answer(1, n + 5, _TAG_STR, n)
                    passed += result.encode("ascii")
                elif result is None:
                    passed += _NO_ANSWER
                else:
                    self._answer_packed(result, passed)
        except Err as e:
            failure = e.value
        # The answers as one block: staged when large, else Latin-1 text.
        staging = _STAGING
        staging.on = True
        staging.offset = 0
        try:
            block = _packed(bytes(passed))
        except BaseException as e:
            # Staging failed (a write to stdout): the batch's first input
            # takes the blame, as a single call's output would.
            return t.PackedAnswers(t.PackedBytes_Latin1(""), exception_error(K.RAISED, e).value)
        finally:
            staging.on = False
        return t.PackedAnswers(block, failure)

    def _answer_packed(self, result, out):
        """Append the answer of a ``process`` call that returned ``result``
        to ``out``, packed: its outputs as ``_collect`` gathers them,
        framed by their count and length. On an error ``out`` is left as
        it was."""
        start = len(out)
        out += _NO_ANSWER
        try:
            if type(result) is not _Generator:
                self._encode_packed(result, out, "process")
                count = 1
                if State.max_outputs < 1:
                    raise error(K.LIMIT_EXCEEDED, "the node gave 1 outputs for one input; the limit is %d" % State.max_outputs)
            else:
                count = self._each_yielded(result, "process", lambda item: self._encode_packed(item, out, "process"))
        except BaseException:
            del out[start:]
            raise
        out[start:start + 8] = _answer_header(count, len(out) - start - 8)

    def _each_yielded(self, generator, what, take):
        """Hand each item ``generator`` yields to ``take``, None items
        skipped, at most ``max_outputs`` of them (past that the generator is
        closed and the call fails); returns how many it took."""
        limit = State.max_outputs
        count = 0
        try:
            for item in generator:
                if item is None:
                    continue
                count += 1
                if count > limit:
                    try:
                        generator.close()
                    except BaseException:
                        pass
                    raise error(K.LIMIT_EXCEEDED, "%s.%s() yielded more than %d outputs for one input" % (
                        self._class_name, what, limit))
                take(item)
        except Err:
            raise
        except BaseException as e:
            raise raised(e)
        return count

    def _encode_packed(self, obj, out, what):
        try:
            _encode_packed(obj, out)
        except values.Unsupported as e:
            raise self._unsupported(what, e)
        except BaseException as e:
            raise exception_error(K.RAISED, e)

    def flush(self):
        try:
            if self._flush is None:
                return _NONE
            return self._collect(self._flush, (), "flush")
        finally:
            flush_io()

    def close(self):
        # The host is about to drop the node: run its optional cleanup()
        # now. (componentize-py 0.25.1's destructor for exported resources
        # does nothing, so __del__ would never run.)
        cleanup = getattr(self, "_cleanup", None)
        self._cleanup = None
        if cleanup is not None:
            try:
                cleanup()
            except BaseException as e:
                err = exception_error(K.RAISED, e).value
                try:
                    _nodehost.log(3, "nodehost", "%s.cleanup() failed: %s\n%s" % (
                        self._class_name, err.message, err.traceback or ""))
                except BaseException:
                    pass
        flush_io()

    def _collect(self, call, args, what):
        """Call the node and gather its result as outputs: None gives none, a
        generator each item it yields (None items skipped), anything else one
        output. Packed blocks of the outputs may be staged (on stdout)."""
        staging = _STAGING
        staging.on = True
        staging.offset = 0
        try:
            try:
                result = call(*args)
            except BaseException as e:
                raise raised(e)
            if result is None:
                return _NONE
            if type(result) is not _Generator:
                cls = type(result)
                if (cls is list or cls is dict) and State.max_outputs >= 1:
                    # The usual answer, a list or map, as the short form
                    # (`one-python-marshal`) when it need not be staged, and
                    # else staged as the general path would; anything
                    # marshal refuses takes the general path.
                    try:
                        data = _dumps(result, 2)
                    except BaseException:
                        data = None
                    if data is not None:
                        n = len(data)
                        if n < _STAGE_MIN or (n < _STAGE_ASCII_MIN and data.isascii()):
                            return _OneMarshal(data.decode("latin-1"))
                        try:
                            return _One(_Marshal(_packed(data)))
                        except BaseException as e:
                            # Staging failed (a write to stdout): as the
                            # general path reports it.
                            raise exception_error(K.RAISED, e)
                try:
                    out = _from_py(result)
                except values.Unsupported as e:
                    raise self._unsupported(what, e)
                except BaseException as e:
                    raise exception_error(K.RAISED, e)
                if State.max_outputs < 1:
                    raise error(K.LIMIT_EXCEEDED, "the node gave 1 outputs for one input; the limit is %d" % State.max_outputs)
                return t.Outputs_One(out)
            out = []
            self._each_yielded(result, what, lambda item: out.append(self._from_py(item, what)))
            if not out:
                return _NONE
            if len(out) == 1:
                return t.Outputs_One(out[0])
            return t.Outputs_Many(out)
        finally:
            staging.on = False

    def _from_py(self, obj, what):
        try:
            return _from_py(obj)
        except values.Unsupported as e:
            raise self._unsupported(what, e)
        except BaseException as e:
            raise exception_error(K.RAISED, e)

    def _unsupported(self, what, e):
        return error(K.UNSUPPORTED_VALUE, "%s.%s() returned a value the pipeline cannot carry: %s" % (
            self._class_name, what, e))
