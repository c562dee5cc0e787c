class Hostile:
    def __init__(self):
        raise RuntimeError("refusing to start")

    def process(self, data):
        return data
