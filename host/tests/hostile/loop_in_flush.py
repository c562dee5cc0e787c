class Hostile:
    def process(self, data):
        return data

    def flush(self):
        while True:
            pass
