"""A node that needs a native extension (numpy): it runs only on the
trusted `cpython` runtime, with numpy from the virtual environment its
manifest names (see the README's "Trusted CPython nodes and their packages")."""

import numpy as np


class Norm:
    """The Euclidean norm of a list of numbers."""

    def process(self, values):
        return float(np.linalg.norm(np.asarray(values, dtype=float)))
