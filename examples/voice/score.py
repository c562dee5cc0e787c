"""Scores recognized commands against the test set's expected ones.

    python3 score.py testset/expected.jsonl results.jsonl

`results.jsonl`: one JSON line per recognized utterance, each with "wav"
(the file's name) and either an action record ("action", "room", "device",
"value") or just "text" (which is parsed with intent.py, as the pipeline
does), and "start"/"end" in seconds. An expected command is right when an
utterance of its file overlapping it in time has the same action record;
each utterance counts once. Prints {"correct", "total", "extra", "wrong":
[...]} as JSON: "extra" counts utterances that matched no command.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "guest-python", "python")]

from intent import Intent, UnknownCommand  # noqa: E402

FIELDS = ("action", "room", "device", "value")
# How far an utterance's times may be from the command's and still overlap it.
SLACK_S = 0.3


def record(result, parser):
    if "text" in result and "action" not in result and "error" not in result:
        try:
            return parser.parse(result["text"])
        except UnknownCommand:
            return None
    if "action" not in result:
        return None
    return {k: result.get(k) for k in FIELDS}


def score(expected_lines, results):
    parser = Intent()
    by_wav = {}
    for r in results:
        by_wav.setdefault(r["wav"], []).append(r)
    correct, total, used, wrong = 0, 0, set(), []
    for line in expected_lines:
        for command in line["commands"]:
            total += 1
            want = {k: command.get(k) for k in FIELDS}
            got = None
            for i, r in enumerate(by_wav.get(line["wav"], [])):
                if (line["wav"], i) in used:
                    continue
                if r["start"] <= command["end"] + SLACK_S and r["end"] >= command["start"] - SLACK_S:
                    used.add((line["wav"], i))
                    got = record(r, parser)
                    break
            if got is not None and {k: got.get(k) for k in FIELDS} == want:
                correct += 1
            else:
                wrong.append({"wav": line["wav"], "said": command["text"], "got": got})
    extra = sum(len(v) for v in by_wav.values()) - len(used)
    return {"correct": correct, "total": total, "extra": extra, "wrong": wrong}


def main():
    with open(sys.argv[1]) as f:
        expected = [json.loads(l) for l in f if l.strip()]
    with open(sys.argv[2]) as f:
        results = [json.loads(l) for l in f if l.strip()]
    print(json.dumps(score(expected, results)))


if __name__ == "__main__":
    main()
