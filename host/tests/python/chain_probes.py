"""Nodes for the fused-chain tests: a failing item, a restart that resets
state, outputs given only at flush, and a tag on everything."""


class FailsOnThree:
    def process(self, x):
        if x == 3:
            raise ValueError("three is refused")
        return x


class CountsAndFailsOnThree:
    """Counts its items; fails (and with on_error restart, starts over) on 3."""

    def __init__(self):
        self.count = 0

    def process(self, x):
        if x == 3:
            raise ValueError("three is refused")
        self.count += 1
        return self.count


class SumAtFlush:
    """Gives nothing per item; at flush, the sum and the number of items."""

    def __init__(self):
        self.seen = []

    def process(self, x):
        self.seen.append(x)

    def flush(self):
        yield sum(self.seen)
        yield len(self.seen)


class Tag:
    def __init__(self, prefix="t"):
        self.prefix = prefix

    def process(self, x):
        return f"{self.prefix}{x}"

    def flush(self):
        yield f"{self.prefix}end"


class Sleeps:
    """Takes 50 ms per item."""

    def process(self, x):
        import time
        time.sleep(0.05)
        return x
