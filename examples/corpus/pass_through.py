"""PassThrough: gives its input back unchanged."""


class PassThrough:
    """Gives every input back unchanged."""

    def process(self, data):
        return data
