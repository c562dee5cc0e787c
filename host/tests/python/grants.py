import os


class Grants:
    """process(what): read, write or list a granted directory, or read an environment variable."""

    def process(self, what):
        try:
            if what == "read":
                with open("/data/hello.txt") as f:
                    return f.read()
            if what == "write":
                with open("/data/written.txt", "w") as f:
                    f.write("from the node")
                return "wrote"
            if what == "list":
                return sorted(os.listdir("/data"))
            if what == "env":
                return os.environ.get("NODEHOST_TEST_GRANTED", "missing") + "/" + os.environ.get("NODEHOST_TEST_SECRET", "missing")
        except OSError as e:
            return "refused: " + type(e).__name__
        return "unknown"
