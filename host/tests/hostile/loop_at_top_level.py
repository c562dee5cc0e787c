# Never finishes loading: the module's top-level code loops.
while True:
    pass


class Hostile:
    def process(self, data):
        return data
