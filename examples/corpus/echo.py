"""Echo: wraps each input with a counter and logs it."""

import logging

from nodehost import Node


class Echo(Node):
    """Wraps each input as {echo, count, prefix} and logs what it saw."""

    def __init__(self, prefix="echo"):
        super().__init__(prefix=prefix)
        self.prefix = prefix
        self.count = 0

    def process(self, data):
        self.count += 1
        self.logger.info("%s #%d: %r", self.prefix, self.count, data)
        print("echoing", self.count)
        return {"echo": data, "count": self.count, "prefix": self.prefix}
