"""Makes the voice example's test set: spoken commands from espeak-ng in
several voices and speeds, some with background noise, as 16 kHz mono
16-bit WAVs (a few at other rates and with two channels, to exercise the
resampler), and `testset/expected.jsonl`, one line per WAV with the
commands' text and the action records the pipeline must give.

The generated set is committed, so tests and the demo need neither
espeak-ng nor sox; this script remakes it (Debian: espeak-ng, sox):

    python3 examples/voice/make_testset.py

The action records come from intent.py, the pipeline's own parser, run
on the text spoken; the start and end of each command are where this
script placed it (the pipeline's are checked against them with a margin).
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "testset")

# (voice, words per minute): espeak-ng's American, British and Scottish
# voices, male and female variants, slow to fast.
VOICES = [
    ("en-us", 150),
    ("en-us+f3", 165),
    ("en", 140),
    ("en-gb-x-rp", 155),
    ("en-us+m3", 185),
    ("en+f2", 170),
]

# Each WAV: its commands, its voice, the noise mixed under it (None, or
# sox's noise colour and its level in dBFS), its sample rate and channels.
RECORDINGS = [
    (["turn on the kitchen lights"], 0, None, 16000, 1),
    (["dim the bedroom lights", "turn off the hallway lights"], 1, None, 16000, 1),
    (["set the living room thermostat to twenty one degrees"], 2, None, 16000, 1),
    (["lock the garage door", "open the office blinds"], 3, None, 16000, 1),
    (["switch off the radio"], 4, None, 16000, 1),
    (["please turn on the bathroom fan", "close the bedroom curtains"], 5, None, 16000, 1),
    (["brighten the dining room lamp"], 0, ("pinknoise", -38), 16000, 1),
    (["unlock the door", "turn the garden sprinklers off"], 1, ("whitenoise", -42), 16000, 1),
    (["set the heating to eighteen degrees", "turn off the tv"], 2, ("brownnoise", -32), 16000, 1),
    (["switch on the basement heater"], 3, ("pinknoise", -36), 16000, 1),
    (["turn on the attic lights", "close the kitchen window"], 4, None, 44100, 2),
    (["turn off the office lamp"], 5, ("pinknoise", -40), 48000, 1),
]

SILENCE_S = (0.6, 1.1)  # between commands, and before the first
TAIL_S = 0.7  # after the last


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def load_intent():
    sys.path.insert(0, os.path.join(HERE, "..", "..", "guest-python", "python"))
    sys.path.insert(0, HERE)
    import intent

    return intent.Intent()


def frames_of(path):
    with wave.open(path) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2), path
        return w.readframes(w.getnframes())


def main():
    os.makedirs(OUT, exist_ok=True)
    parser = load_intent()
    rng = random.Random(1)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (commands, voice, noise, rate, channels) in enumerate(RECORDINGS):
            name, wpm = VOICES[voice]
            pcm = b""
            expected = []
            for text in commands:
                gap = rng.uniform(*SILENCE_S)
                pcm += b"\0\0" * int(gap * 16000)
                spoken = os.path.join(tmp, "spoken.wav")
                run("espeak-ng", "-v", name, "-s", str(wpm), "-w", spoken, text)
                mono = os.path.join(tmp, "mono.wav")
                # Trimmed of espeak-ng's own leading and trailing silence,
                # so the times in expected.jsonl are the speech's.
                run("sox", spoken, "-r", "16000", "-c", "1", "-b", "16", mono,
                    "silence", "1", "0.01", "-45d", "reverse", "silence", "1", "0.01", "-45d", "reverse")
                speech = frames_of(mono)
                start = len(pcm) / 2 / 16000
                pcm += speech
                action = parser.parse(text)
                expected.append(dict(action, text=text, start=round(start, 2), end=round(len(pcm) / 2 / 16000, 2)))
            pcm += b"\0\0" * int(TAIL_S * 16000)
            clean = os.path.join(tmp, "clean.wav")
            with wave.open(clean, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                w.writeframes(pcm)
            file = "%02d-%s-%d%s.wav" % (index + 1, name.replace("+", "-"), wpm, "-" + noise[0] if noise else "")
            target = os.path.join(OUT, file)
            mixed = clean
            if noise:
                colour, level = noise
                duration = len(pcm) / 2 / 16000
                noise_wav = os.path.join(tmp, "noise.wav")
                run("sox", "-n", "-r", "16000", "-c", "1", "-b", "16", noise_wav, "synth", "%.3f" % duration, colour, "vol", "%ddB" % level)
                mixed = os.path.join(tmp, "mixed.wav")
                run("sox", "-m", clean, noise_wav, mixed)
            run("sox", mixed, "-r", str(rate), "-c", str(channels), "-b", "16", target)
            lines.append({"wav": file, "sample_rate": rate, "channels": channels, "noise": noise and "%s %d dBFS" % noise, "commands": expected})
            print(file, "|".join(commands))
    with open(os.path.join(OUT, "expected.jsonl"), "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
