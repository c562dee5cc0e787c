"""ComplexData: validates a record and adds metadata."""

import statistics


class ComplexData:
    """Checks that a record has an id and a list of numbers, and adds statistics and metadata."""

    REQUIRED = ("id", "values")

    def __init__(self, source="corpus"):
        self.source = source
        self.seen = 0

    def process(self, data):
        if not isinstance(data, dict):
            return {"valid": False, "error": "expected a dict, got " + type(data).__name__}
        missing = [k for k in self.REQUIRED if k not in data]
        if missing:
            return {"valid": False, "error": "missing keys: " + ", ".join(missing), "id": data.get("id")}
        values = data["values"]
        if not values or not all(isinstance(v, (int, float)) for v in values):
            return {"valid": False, "error": "values must be a non-empty list of numbers", "id": data["id"]}
        self.seen += 1
        result = dict(data)
        result["valid"] = True
        result["metadata"] = {
            "source": self.source,
            "sequence": self.seen,
            "keys": sorted(data.keys()),
            "stats": {
                "count": len(values),
                "sum": sum(values),
                "mean": statistics.mean(values),
                "min": min(values),
                "max": max(values),
            },
            "tags": [t.upper() for t in data.get("tags", [])],
        }
        return result
