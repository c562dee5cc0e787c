"""The plain one-file pocketsphinx script a pocketsphinx user would write,
the accuracy reference for the voice pipeline: each WAV converted to 16 kHz
mono with the standard library, cut into utterances by pocketsphinx's own
segmenter, each decoded against the same grammar. One JSON line per
utterance: {"wav", "text", "start", "end"}.

    .venv/bin/python plain_recognize.py testset/*.wav
"""

import audioop
import json
import os
import sys
import wave

from pocketsphinx import Decoder, Segmenter

HERE = os.path.dirname(os.path.abspath(__file__))


def pcm16k(path):
    with wave.open(path) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        pcm = w.readframes(w.getnframes())
    if width != 2:
        pcm = audioop.lin2lin(pcm, width, 2)
    if channels == 2:
        pcm = audioop.tomono(pcm, 2, 0.5, 0.5)
    elif channels != 1:
        raise SystemExit("%s: %d channels" % (path, channels))
    if rate != 16000:
        pcm, _ = audioop.ratecv(pcm, 2, 1, rate, 16000, None)
    return pcm


def main():
    decoder = Decoder(samprate=16000, jsgf=os.path.join(HERE, "commands.gram"), loglevel="FATAL")
    for path in sys.argv[1:]:
        segmenter = Segmenter(sample_rate=16000)
        pcm = pcm16k(path)
        chunk = segmenter.frame_bytes
        stream = (pcm[i:i + chunk] for i in range(0, len(pcm) - chunk + 1, chunk))
        for segment in segmenter.segment(_Reader(stream)):
            decoder.start_utt()
            decoder.process_raw(segment.pcm, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            print(json.dumps({
                "wav": os.path.basename(path),
                "text": hyp.hypstr if hyp is not None else "",
                "start": round(segment.start_time, 3),
                "end": round(segment.end_time, 3),
            }))


class _Reader:
    """A `read(n)` over the frames of `chunks`, which the segmenter reads from."""

    def __init__(self, chunks):
        self.chunks = chunks

    def read(self, n):
        return next(self.chunks, b"")


if __name__ == "__main__":
    main()
