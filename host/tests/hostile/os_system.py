import os


class Hostile:
    def process(self, data):
        return os.system("id")
