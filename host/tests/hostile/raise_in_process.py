class Hostile:
    def process(self, data):
        raise KeyError(data)
