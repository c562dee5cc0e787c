class Hostile:
    """Runs for ages without a single loop: an exponential call tree, so
    only a check at each function start can interrupt it."""

    def process(self, data):
        return self.fib(200)

    def fib(self, n):
        return n if n < 2 else self.fib(n - 1) + self.fib(n - 2)
