class Hostile:
    def process(self, data):
        with open("/etc/passwd") as f:
            return f.read()
