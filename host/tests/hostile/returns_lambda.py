class Hostile:
    def process(self, data):
        return lambda: data
