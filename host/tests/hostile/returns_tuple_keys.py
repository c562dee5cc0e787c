class Hostile:
    def process(self, data):
        return {(data, data): 1}
