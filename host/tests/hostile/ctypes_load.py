class Hostile:
    def process(self, data):
        import ctypes
        return ctypes.CDLL(None).getpid()
