"""The chain Double -> Add(10) -> Format, one node class each."""


class Double:
    """Doubles a number."""

    def process(self, data):
        return data * 2


class Add:
    """Adds `amount`."""

    def __init__(self, amount=10):
        self.amount = amount

    def process(self, data):
        return data + self.amount


class Format:
    """Formats a number into text."""

    def __init__(self, template="Result: {}"):
        self.template = template

    def process(self, data):
        return self.template.format(data)
