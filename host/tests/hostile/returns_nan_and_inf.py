class Hostile:
    def process(self, data):
        return [float("nan"), float("inf"), -float("inf")]
