class Hostile:
    """Returns 60 levels of lists, each holding the one below twice: a few
    kilobytes in memory that copy out to 2**60 items."""

    def process(self, data):
        xs = [data]
        for _ in range(60):
            xs = [xs, xs]
        return xs
