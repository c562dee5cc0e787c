"""The chain Double -> Add(10) -> Format as a CPython user would write it
without nodehost: the same node classes called in sequence in one loop, one
JSON line per output. The fair baseline for the throughput scenarios.

    python3 plain_chain.py [COUNT]
"""

import importlib.util
import json
import os
import sys


def load_chain():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "chain.py")
    spec = importlib.util.spec_from_file_location("chain", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    chain = load_chain()
    double, add, fmt = chain.Double(), chain.Add(10), chain.Format("Result: {}")
    write = sys.stdout.write
    for item in range(1, count + 1):
        write(json.dumps(fmt.process(add.process(double.process(item)))) + "\n")


if __name__ == "__main__":
    main()
