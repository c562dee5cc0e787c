class Hostile:
    def __init__(self):
        while True:
            pass

    def process(self, data):
        return data
