import time


class Hostile:
    def process(self, data):
        time.sleep(30)
        return "woke up"
