"""Filter: says whether each number is within [min_value, max_value]."""


class Filter:
    """Marks each number as passed or not by a min/max range."""

    def __init__(self, min_value=None, max_value=None):
        self.min_value = min_value
        self.max_value = max_value

    def process(self, data):
        passed = True
        if self.min_value is not None and data < self.min_value:
            passed = False
        if self.max_value is not None and data > self.max_value:
            passed = False
        return {"value": data, "passed": passed}
