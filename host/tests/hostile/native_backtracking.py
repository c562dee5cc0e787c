import re


class Hostile:
    def process(self, data):
        # Catastrophic backtracking: all the time is spent inside the regex
        # engine, where no Python code runs that could be interrupted softly.
        return bool(re.match(r"(a+)+$", "a" * 40 + "b"))
