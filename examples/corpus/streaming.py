"""Streaming: a generator node giving several outputs per input."""


class Streaming:
    """Yields `count` items per input: {index, input, value}."""

    def __init__(self, count=3):
        self.count = count

    def process(self, data):
        for i in range(self.count):
            yield {"index": i, "input": data, "value": data * (i + 1)}
