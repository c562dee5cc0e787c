"""Spectral norm of the infinite matrix A(i, j) = 1 / ((i + j)(i + j + 1) / 2 + i + 1)."""


def _a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def _av(x, n):
    return [sum(_a(i, j) * x[j] for j in range(n)) for i in range(n)]


def _atv(x, n):
    return [sum(_a(j, i) * x[j] for j in range(n)) for i in range(n)]


class SpectralNorm:
    """process(n): the norm estimated with an n-by-n section of A."""

    def process(self, n):
        u = [1.0] * n
        for _ in range(10):
            v = _atv(_av(u, n), n)
            u = _atv(_av(v, n), n)
        vbv = sum(a * b for a, b in zip(u, v))
        vv = sum(b * b for b in v)
        return round((vbv / vv) ** 0.5, 9)
