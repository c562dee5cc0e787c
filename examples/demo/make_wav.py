"""Writes speech.wav: 3 s of 16 kHz mono audio with three voiced bursts
(harmonic tones with a syllable-like envelope) over a quiet noise floor.
Deterministic: the same file every time."""

import math
import random
import struct
import wave

RATE = 16000
SECONDS = 3.0
BURSTS = [(0.30, 0.55), (1.10, 0.80), (2.25, 0.45)]  # (start s, length s)

rng = random.Random(7)
samples = []
for n in range(int(RATE * SECONDS)):
    t = n / RATE
    x = rng.gauss(0.0, 0.002)  # noise floor, about -54 dBFS
    for start, length in BURSTS:
        if start <= t < start + length:
            u = (t - start) / length
            envelope = math.sin(math.pi * u) ** 0.5 * (0.6 + 0.4 * math.sin(2 * math.pi * 4 * u))
            pitch = 140 + 30 * math.sin(2 * math.pi * u)
            voiced = sum(math.sin(2 * math.pi * pitch * k * t) / k for k in range(1, 6))
            x += 0.12 * envelope * voiced
    samples.append(max(-1.0, min(1.0, x)))

with wave.open("speech.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    w.writeframes(b"".join(struct.pack("<h", round(s * 32767)) for s in samples))
