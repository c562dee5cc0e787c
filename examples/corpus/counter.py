"""Counter: keeps state between calls."""


class Counter:
    """Counts the items it has seen and sums the numbers among them."""

    def __init__(self, start=0):
        self.count = start
        self.total = 0

    def process(self, data):
        self.count += 1
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            self.total += data
        return {"count": self.count, "total": self.total, "value": data}

    def flush(self):
        return {"final_count": self.count, "final_total": self.total}
