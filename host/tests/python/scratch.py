"""A node that uses its /tmp, for the tests of the sandbox's scratch
directory (host/tests/stdlib.rs)."""

import os
import tempfile


class Scratch:
    """process([op, ...]):
    ["append", name, n]: append n bytes to a file in the temp dir; gives its size;
    ["size", name]: a file's size, or None when it is gone;
    ["truncate", name, n]: make a file n bytes long (sparse);
    ["temp", n]: write n bytes to a TemporaryFile and give how many read back;
    ["files", n]: make n empty files in a new directory;
    ["where"]: the temp dir."""

    def process(self, cmd):
        op, args = cmd[0], cmd[1:]
        tmp = tempfile.gettempdir()
        if op == "append":
            path = os.path.join(tmp, args[0])
            with open(path, "ab") as f:
                for _ in range(args[1] // 65536):
                    f.write(b"x" * 65536)
                f.write(b"x" * (args[1] % 65536))
            return os.path.getsize(path)
        if op == "size":
            path = os.path.join(tmp, args[0])
            return os.path.getsize(path) if os.path.exists(path) else None
        if op == "truncate":
            with open(os.path.join(tmp, args[0]), "ab") as f:
                f.truncate(args[1])
            return args[1]
        if op == "temp":
            with tempfile.TemporaryFile() as f:
                f.write(b"y" * args[0])
                f.seek(0)
                return len(f.read())
        if op == "files":
            d = tempfile.mkdtemp()
            for i in range(args[0]):
                open(os.path.join(d, str(i)), "w").close()
            return len(os.listdir(d))
        if op == "where":
            return tmp
        raise ValueError(op)
