class Hostile:
    def process(self, data):
        import subprocess
        return subprocess.run(["id"], capture_output=True).stdout
