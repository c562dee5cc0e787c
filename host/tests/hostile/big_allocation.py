class Hostile:
    def process(self, data):
        block = bytearray(1 << 30)
        return len(block)
