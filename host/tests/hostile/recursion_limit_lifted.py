import sys


def down(n):
    return down(n + 1) + 1


class Hostile:
    def __init__(self):
        sys.setrecursionlimit(10 ** 9)

    def process(self, data):
        return down(0)
