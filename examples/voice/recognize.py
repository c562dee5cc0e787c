"""Speech recognition with pocketsphinx and a JSGF grammar of commands.

Takes utterances ({"start", "end", "audio"}, 16 kHz mono) and gives
{"text", "start", "end"}: the best path through the grammar, or "" when
none fits. pocketsphinx is a native extension, so this node runs on the
trusted CPython runtime with its packages from a virtual environment
(`venv` in the manifest; scripts/setup-voice.sh makes it).

pocketsphinx's own free-vocabulary model gets nearly nothing right on
synthetic speech; the grammar (commands.gram) is what makes it reliable.
"""

import os
from array import array

from nodehost import Node


class Recognizer(Node):
    def __init__(self, grammar="commands.gram", sample_rate=16000):
        super().__init__()
        from pocketsphinx import Decoder

        if not os.path.isabs(grammar):
            grammar = os.path.join(os.path.dirname(os.path.abspath(__file__)), grammar)
        if not os.path.exists(grammar):
            raise FileNotFoundError("no grammar file at %s" % grammar)
        self.sample_rate = sample_rate
        self.decoder = Decoder(samprate=sample_rate, jsgf=grammar, loglevel="FATAL")
        self.utterances = 0

    def process(self, utterance):
        audio = utterance["audio"]
        if audio.sample_rate != self.sample_rate or audio.channels != 1:
            raise ValueError("the recognizer takes %d Hz mono audio, got %d Hz with %d channels"
                             % (self.sample_rate, audio.sample_rate, audio.channels))
        # Rounded, not truncated: truncating toward zero distorts quiet
        # sounds enough to change what pocketsphinx hears.
        pcm = array("h", [32767 if v > 32767 else -32768 if v < -32768 else v
                          for v in [round(s * 32768.0) for s in audio.samples]])
        decoder = self.decoder
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        self.utterances += 1
        yield {"text": hyp.hypstr if hyp is not None else "", "start": utterance["start"], "end": utterance["end"]}

    def flush(self):
        self.logger.info("%d utterances decoded", self.utterances)
