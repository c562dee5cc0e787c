import os


class Hostile:
    def process(self, data):
        return dict(os.environ)
