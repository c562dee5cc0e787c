class Hostile:
    def process(self, data):
        return data

    def cleanup(self):
        while True:
            pass
