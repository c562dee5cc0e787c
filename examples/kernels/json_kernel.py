"""JSON: encode and decode a nested document, as services do."""

import json

DOC = {
    "id": 1234,
    "name": "sensor-array",
    "active": True,
    "ratio": 0.875,
    "tags": ["alpha", "beta", "gamma", "delta"],
    "readings": [{"t": i, "v": i * 0.25, "ok": i % 3 != 0} for i in range(20)],
    "meta": {"owner": "ops", "zone": "eu-west", "limits": {"low": -40, "high": 85}},
}


class JsonDumps:
    """process(n): serialize the document n times; gives the last length."""

    def process(self, n):
        size = 0
        for _ in range(n):
            size = len(json.dumps(DOC))
        return size


class JsonLoads:
    """process(n): parse the serialized document n times; gives the reading count."""

    def __init__(self):
        self.text = json.dumps(DOC)

    def process(self, n):
        doc = None
        for _ in range(n):
            doc = json.loads(self.text)
        return len(doc["readings"])
