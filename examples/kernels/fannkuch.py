"""Fannkuch: the most pancake flips over all permutations of 1..n."""


class Fannkuch:
    """process(n): {"checksum", "max_flips"} over all permutations of n items."""

    def process(self, n):
        perm1 = list(range(n))
        count = [0] * n
        max_flips = checksum = 0
        r = n
        sign = 1
        while True:
            while r != 1:
                count[r - 1] = r
                r -= 1
            perm = perm1[:]
            flips = 0
            k = perm[0]
            while k:
                perm[:k + 1] = perm[k::-1]
                flips += 1
                k = perm[0]
            max_flips = max(max_flips, flips)
            checksum += flips * sign
            while True:
                if r == n:
                    return {"checksum": checksum, "max_flips": max_flips}
                first = perm1[0]
                perm1[:r] = perm1[1:r + 1]
                perm1[r] = first
                count[r] -= 1
                if count[r] > 0:
                    break
                r += 1
            sign = -sign
