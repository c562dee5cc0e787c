class Hostile:
    def __init__(self):
        self.kept = []

    def process(self, data):
        for _ in range(4):
            self.kept.append(bytearray(4 << 20))
        return len(self.kept)
