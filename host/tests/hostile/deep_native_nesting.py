import json
import pickle


class Hostile:
    """Nests a list 100,000 deep and hands it to native code that recurses
    once per level: repr, json.dumps, pickle.dumps (by item)."""

    def process(self, data):
        value = []
        for _ in range(100000):
            value = [value]
        encode = {1: repr, 2: json.dumps, 3: pickle.dumps}[data]
        return len(encode(value))
