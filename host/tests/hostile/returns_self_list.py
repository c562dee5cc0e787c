class Hostile:
    def process(self, data):
        xs = [data]
        xs.append(xs)
        return xs
