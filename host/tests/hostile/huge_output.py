class Hostile:
    def process(self, data):
        return "x" * (4 << 20)
