class Hostile:
    def process(self, data):
        return object()
