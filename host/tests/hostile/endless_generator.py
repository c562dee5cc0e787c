class Hostile:
    def process(self, data):
        while True:
            yield data
