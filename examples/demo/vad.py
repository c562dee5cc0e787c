"""Voice activity detection: finds speech segments in a stream of audio frames."""

import math

from nodehost import Node


class VoiceActivity(Node):
    """Energy-based voice activity detector with hangover; yields one segment per stretch of speech."""

    def __init__(self, threshold_db=-35.0, hangover_ms=150, min_speech_ms=100):
        super().__init__(threshold_db=threshold_db, hangover_ms=hangover_ms, min_speech_ms=min_speech_ms)
        self.threshold_db = threshold_db
        self.hangover = hangover_ms / 1000.0
        self.min_speech = min_speech_ms / 1000.0
        self.time = 0.0
        self.start = None
        self.last_voiced = 0.0
        self.peak_db = -120.0
        self.frames = 0

    def process(self, frame):
        samples = frame.samples
        n = len(samples)
        energy = sum(s * s for s in samples) / n if n else 0.0
        level_db = 10.0 * math.log10(energy) if energy > 0 else -120.0
        begin = self.time
        self.time += frame.duration
        self.frames += 1
        if level_db >= self.threshold_db:
            if self.start is None:
                self.start = begin
                self.peak_db = level_db
            self.last_voiced = self.time
            self.peak_db = max(self.peak_db, level_db)
        elif self.start is not None and self.time - self.last_voiced >= self.hangover:
            yield from self._close()

    def flush(self):
        if self.start is not None:
            yield from self._close()
        self.logger.info("analysed %d frames (%.2f s of audio)", self.frames, self.time)

    def _close(self):
        start, end = self.start, self.last_voiced
        self.start = None
        if end - start >= self.min_speech:
            self.logger.info("speech from %.2f s to %.2f s", start, end)
            yield {
                "start": round(start, 3),
                "end": round(end, 3),
                "duration": round(end - start, 3),
                "peak_db": round(self.peak_db, 1),
            }
