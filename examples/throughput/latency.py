"""Latency per item at low load, from outside: run `nodehost run MANIFEST
--stdin ...`, write one JSON line, wait for its output line, and so on;
print the p50 and p99 round trip. Works with any nodehost binary (so an
old and a new build can be compared in one run).

    python3 latency.py NODEHOST MANIFEST [COUNT] [-- extra nodehost args]
"""

import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[: args.index("--")]
    binary, manifest = args[0], args[1]
    count = int(args[2]) if len(args) > 2 else 2000
    proc = subprocess.Popen(
        [binary, "run", manifest, "--stdin", *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        bufsize=0,
    )
    times = []
    for n in range(count + 100):
        started = time.perf_counter()
        proc.stdin.write(f"{n}\n".encode())
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the pipeline ended early")
        if n >= 100:  # the first items warm up
            times.append(time.perf_counter() - started)
    proc.stdin.close()
    proc.wait()
    times.sort()
    p50 = times[len(times) // 2] * 1e6
    p99 = times[int(len(times) * 0.99)] * 1e6
    print(f"p50 {p50:.0f} us  p99 {p99:.0f} us  ({count} items)")


if __name__ == "__main__":
    main()
