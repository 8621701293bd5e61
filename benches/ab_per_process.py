#!/usr/bin/env python3
"""Two or more `verity` binaries, one query, per process and in turns.

`verity bench search --cold` measures one binary against its peers; comparing two builds of
verity itself (before and after a change) needs both run the same way in the same minutes, in
turns, so that the machine's drift falls on both. Each run is one `verity search --index I -l Q`
process, page cache warm, timed from spawn to exit. The search's options follow `--`
(`-l` when none are given).

    python3 benches/ab_per_process.py RUNS QUERY INDEX BINARY [BINARY ...] [-- OPTION ...]
"""
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    runs, query, index, rest = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    binaries, options = rest, ["-l"]
    if "--" in rest:
        cut = rest.index("--")
        binaries, options = rest[:cut], rest[cut + 1:]
    times = {b: [] for b in binaries}
    for _ in range(runs):
        for b in binaries:
            start = time.perf_counter()
            done = subprocess.run([b, "search", "--index", index, *options, query],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Exit status 1 is "nothing matched", an answer like any other.
            if done.returncode not in (0, 1):
                sys.exit(f"{b} exited with status {done.returncode} on {query!r}")
            times[b].append((time.perf_counter() - start) * 1000)
    for b in binaries:
        v = sorted(times[b])
        print(f"{b}: median {statistics.median(v):.1f} ms, "
              f"p10 {v[len(v) // 10]:.1f}, p90 {v[len(v) * 9 // 10]:.1f}")


if __name__ == "__main__":
    main()
