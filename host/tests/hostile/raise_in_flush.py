class Hostile:
    def process(self, data):
        return data

    def flush(self):
        raise ValueError("cannot flush")
