"""ListProcessing: aggregates over a list."""


class ListProcessing:
    """sum, mean, min, max, sort, reverse, unique or stats over a list of numbers."""

    def __init__(self, operation="sum"):
        self.operation = operation

    def process(self, data):
        op = self.operation
        if op == "sum":
            return sum(data)
        if op == "mean":
            return sum(data) / len(data) if data else None
        if op == "min":
            return min(data)
        if op == "max":
            return max(data)
        if op == "sort":
            return sorted(data)
        if op == "reverse":
            return list(reversed(data))
        if op == "unique":
            return sorted(set(data))
        if op == "stats":
            return {"count": len(data), "sum": sum(data), "min": min(data), "max": max(data), "squares": [x * x for x in data]}
        raise ValueError("unknown operation: %s" % op)
