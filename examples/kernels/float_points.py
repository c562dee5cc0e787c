"""Float: many small objects doing float arithmetic (sin, cos, sqrt), normalized and compared."""

from math import cos, sin, sqrt


class Point:
    __slots__ = ("x", "y", "z")

    def __init__(self, i):
        self.x = x = sin(i)
        self.y = cos(i) * 3
        self.z = (x * x) / 2

    def normalize(self):
        norm = sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= norm
        self.y /= norm
        self.z /= norm

    def maximize(self, other):
        self.x = self.x if self.x > other.x else other.x
        self.y = self.y if self.y > other.y else other.y
        self.z = self.z if self.z > other.z else other.z
        return self


class FloatPoints:
    """process(n): make n points, normalize them, and give the componentwise maximum."""

    def process(self, n):
        points = [Point(i) for i in range(n)]
        for p in points:
            p.normalize()
        best = points[0]
        for p in points[1:]:
            best = best.maximize(p)
        return [round(best.x, 9), round(best.y, 9), round(best.z, 9)]
