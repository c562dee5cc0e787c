def down(n):
    return down(n + 1) + 1


class Hostile:
    def process(self, data):
        return down(0)
