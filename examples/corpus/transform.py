"""Transform: identity, double, square or multiply, with logging and
initialize/cleanup hooks."""

import logging

log = logging.getLogger("transform")


class Transform:
    """Applies one arithmetic transform to numbers (or to each number of a list)."""

    OPERATIONS = ("identity", "double", "square", "multiply")

    def __init__(self, operation="identity", factor=1):
        if operation not in self.OPERATIONS:
            raise ValueError("unknown operation %r (expected one of %s)" % (operation, ", ".join(self.OPERATIONS)))
        self.operation = operation
        self.factor = factor
        self.ready = False
        self.calls = 0

    def initialize(self):
        self.ready = True
        log.info("transform ready: %s", self.operation)

    def cleanup(self):
        log.info("transform done after %d calls", self.calls)

    def _apply(self, x):
        if self.operation == "double":
            return x * 2
        if self.operation == "square":
            return x * x
        if self.operation == "multiply":
            return x * self.factor
        return x

    def process(self, data):
        if not self.ready:
            raise RuntimeError("process() before initialize()")
        self.calls += 1
        log.debug("call %d: %r", self.calls, data)
        if isinstance(data, list):
            return [self._apply(x) for x in data]
        return self._apply(data)
