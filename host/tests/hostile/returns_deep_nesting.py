class Hostile:
    def process(self, data):
        value = data
        for _ in range(100000):
            value = [value]
        return value
