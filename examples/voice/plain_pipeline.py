"""The voice pipeline as a CPython user would write it without nodehost:
one process, one thread, the same node classes (segment.py, recognize.py,
intent.py) called in sequence per 20 ms frame, and the Rust nodes' work
done in Python (resampling with the standard library's audioop, the gain
and clip as a loop, the JSON line with json.dumps). The fair baseline of
the `voice/` benchmarks; it prints the same JSON lines as the pipeline.

    .venv/bin/python plain_pipeline.py FILE.wav ...
    .venv/bin/python plain_pipeline.py --pcm FILE --sample-rate 16000   # raw s16le mono; "-": stdin
"""

import audioop
import json
import os
import sys
import wave
from array import array

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "guest-python", "python")]

from nodehost import AudioFrame  # noqa: E402
from intent import Intent  # noqa: E402
from recognize import Recognizer  # noqa: E402
from segment import Segmenter  # noqa: E402

RATE = 16000
FRAME_S = 0.02
FIELDS = ["action", "room", "device", "value", "error", "text", "start", "end"]
GAIN = 10 ** (0.0 / 20)


def frames_of_wav(path):
    """16-bit PCM frames of 20 ms at 16 kHz mono, converted as read."""
    with wave.open(path) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        step = max(1, int(round(rate * FRAME_S)))
        state = None
        while True:
            pcm = w.readframes(step)
            if not pcm:
                return
            if width != 2:
                pcm = audioop.lin2lin(pcm, width, 2)
            if channels == 2:
                pcm = audioop.tomono(pcm, 2, 0.5, 0.5)
            if rate != RATE:
                pcm, state = audioop.ratecv(pcm, 2, 1, rate, RATE, state)
            yield pcm


def frames_of_pcm(path, rate):
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    step = max(1, int(round(rate * FRAME_S))) * 2
    state = None
    with stream:
        while True:
            pcm = stream.read(step)
            if len(pcm) < 2:
                return
            pcm = pcm[:len(pcm) - len(pcm) % 2]
            if rate != RATE:
                pcm, state = audioop.ratecv(pcm, 2, 1, rate, RATE, state)
            yield pcm


def line(record):
    out = {}
    for name in FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, float):
            value = round(value, 2)
        out[name] = value
    return json.dumps(out, separators=(",", ":"))


def run(frames, write):
    segmenter, recognizer, intent = Segmenter(), Recognizer(), Intent()
    scale = 1.0 / 32768.0

    def through(utterances):
        for utterance in utterances:
            for text in recognizer.process(utterance):
                for record in intent.process(text):
                    write(line(record) + "\n")

    for pcm in frames:
        samples = array("h", pcm)
        floats = array("f", [max(-1.0, min(1.0, s * scale * GAIN)) for s in samples])
        through(segmenter.process(AudioFrame(floats, RATE, 1)))
    through(segmenter.flush())


def main():
    args = sys.argv[1:]
    write = sys.stdout.write
    if args[:1] == ["--pcm"]:
        rate = int(args[args.index("--sample-rate") + 1]) if "--sample-rate" in args else RATE
        run(frames_of_pcm(args[1], rate), write)
    else:
        for path in args:
            run(frames_of_wav(path), write)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
