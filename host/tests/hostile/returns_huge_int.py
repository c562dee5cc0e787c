class Hostile:
    def process(self, data):
        # Exact ints of any size cross the boundary; this one's 2 MiB of
        # magnitude is past the output cap.
        return 1 << (8 * (2 << 20))
