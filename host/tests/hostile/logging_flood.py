import logging

log = logging.getLogger("flood")


class Hostile:
    def process(self, data):
        for i in range(3000):
            log.warning("log spam %d", i)
        return data
