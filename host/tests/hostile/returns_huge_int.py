class Hostile:
    def process(self, data):
        return 10 ** 100
