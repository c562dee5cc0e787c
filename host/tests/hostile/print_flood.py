class Hostile:
    def process(self, data):
        for i in range(3000):
            print("spam line", i)
        return data
