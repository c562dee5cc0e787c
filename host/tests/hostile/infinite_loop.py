class Hostile:
    def process(self, data):
        n = 0
        while True:
            n += 1
