"""Accumulator: sliding-window sum, average and count."""

from collections import deque


class Accumulator:
    """Sum, average and count over the last `window_size` numbers."""

    def __init__(self, window_size=5):
        if window_size < 1:
            raise ValueError("window_size must be at least 1")
        self.values = deque(maxlen=window_size)

    def process(self, data):
        self.values.append(data)
        total = sum(self.values)
        return {"sum": total, "average": total / len(self.values), "count": len(self.values)}
