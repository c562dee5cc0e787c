"""Voice-activity segmenting: cuts a stream of audio frames into utterances.

Each utterance comes out as {"start": s, "end": s, "audio": AudioFrame},
times in seconds from the start of the stream. A frame is voiced when its
level stands `margin_db` above the noise floor (tracked from the quiet
frames, so steady background noise does not count as speech) and above
`threshold_db`. An utterance ends after `hangover_ms` without voice (the
pauses between words are shorter), and carries `pad_ms` of audio before
its first voiced frame and after its last, so the recognizer hears the
onset and the release. Utterances shorter than `min_speech_ms` are
dropped (clicks); one longer than `max_utterance_s` is cut there.
"""

import math
from array import array

from nodehost import AudioFrame, Node


class Segmenter(Node):
    def __init__(self, threshold_db=-50.0, margin_db=12.0, hangover_ms=350, pad_ms=200,
                 min_speech_ms=150, max_utterance_s=15.0):
        super().__init__()
        self.threshold_db = threshold_db
        self.margin_db = margin_db
        self.hangover = hangover_ms / 1000.0
        self.pad = pad_ms / 1000.0
        self.min_speech = min_speech_ms / 1000.0
        self.max_utterance = max_utterance_s
        self.noise_db = None
        self.time = 0.0
        self.rate = None
        # The last `pad` seconds of audio before an utterance: (start, samples).
        self.recent = []
        self.recent_len = 0.0
        self.audio = None  # the utterance's samples, while one is open
        self.audio_start = None  # where they start (the padding before the speech)
        self.start = None
        self.last_voiced = 0.0
        self.voiced_frames = 0
        self.utterances = 0

    def process(self, frame):
        if frame.channels != 1:
            raise ValueError("the segmenter takes mono audio, got %d channels (resample with mono = true first)" % frame.channels)
        if self.rate is None:
            self.rate = frame.sample_rate
        elif frame.sample_rate != self.rate:
            raise ValueError("the sample rate changed from %d Hz to %d Hz" % (self.rate, frame.sample_rate))
        samples = frame.samples
        n = len(samples)
        if n == 0:
            return
        energy = sum(s * s for s in samples) / n
        level_db = 10.0 * math.log10(energy) if energy > 1e-12 else -120.0
        begin = self.time
        self.time += n / self.rate
        if self.noise_db is None:
            # The stream's first frame is taken for its background: noise
            # present from the start is then not mistaken for speech.
            self.noise_db = level_db
        voiced = level_db >= self.threshold_db and level_db >= self.noise_db + self.margin_db
        if not voiced:
            self._track_noise(level_db, n / self.rate)
        if self.audio is None:
            if voiced:
                self._open(begin)
                self.audio.extend(samples)
                self.last_voiced = self.time
                self.voiced_frames = 1
            else:
                self._remember(begin, samples)
            return
        self.audio.extend(samples)
        if voiced:
            self.last_voiced = self.time
            self.voiced_frames += 1
        if self.time - self.last_voiced >= self.hangover:
            yield from self._close()
        elif self.time - self.start >= self.max_utterance:
            self.logger.warning("utterance from %.2f s cut at %.1f s", self.start, self.max_utterance)
            self.last_voiced = self.time
            yield from self._close()

    def flush(self):
        if self.audio is not None:
            yield from self._close()
        self.logger.info("%d utterances in %.2f s of audio", self.utterances, self.time)

    def _track_noise(self, level_db, seconds):
        # Down at once, up slowly (3 dB a second): a pause between words
        # does not drag the floor up to the speech around it.
        if level_db < self.noise_db:
            self.noise_db = level_db
        else:
            self.noise_db = min(level_db, self.noise_db + 3.0 * seconds)

    def _remember(self, begin, samples):
        self.recent.append((begin, samples))
        self.recent_len += len(samples) / self.rate
        while self.recent and self.recent_len - len(self.recent[0][1]) / self.rate >= self.pad:
            _, old = self.recent.pop(0)
            self.recent_len -= len(old) / self.rate

    def _open(self, begin):
        self.audio = array("f")
        self.start = begin
        for _, samples in self.recent:
            self.audio.extend(samples)
        self.audio_start = self.recent[0][0] if self.recent else begin
        self.recent = []
        self.recent_len = 0.0

    def _close(self):
        start, end = self.start, self.last_voiced
        keep_until = min(self.time, end + self.pad)
        keep = int(round((keep_until - self.audio_start) * self.rate))
        audio = self.audio[:keep]
        self.audio = None
        if end - start < self.min_speech:
            return
        self.utterances += 1
        self.logger.info("utterance %.2f s - %.2f s", start, end)
        yield {"start": round(start, 3), "end": round(end, 3), "audio": AudioFrame(audio, self.rate, 1)}
