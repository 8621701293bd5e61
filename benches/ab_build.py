#!/usr/bin/env python3
"""Index build times of verity binaries and of codesearch's `cindex`, in turns.

    python3 benches/ab_build.py CORPUS ROUNDS VERITY_BINARY [VERITY_BINARY ...]

Each round builds the corpus once with every binary (`verity index --embedder none` into a
fresh directory) and once with `cindex` (into a fresh index file), one after the other, so a
machine whose speed drifts affects all of them alike. Prints each one's median and every
wall time, in seconds. Used for docs/BENCHMARKS.md, "The trigram index".
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    corpus, rounds, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with tempfile.TemporaryDirectory() as tmp:
        index, cs_index = os.path.join(tmp, "verity"), os.path.join(tmp, "csearchindex")
        runs = {name: [] for name in binaries + ["cindex"]}
        for _ in range(rounds):
            for name in runs:
                shutil.rmtree(index, ignore_errors=True)
                if os.path.exists(cs_index):
                    os.remove(cs_index)
                if name == "cindex":
                    cmd, env = ["cindex", corpus], dict(os.environ, CSEARCHINDEX=cs_index)
                else:
                    cmd = [name, "index", corpus, "--index", index, "--embedder", "none"]
                    env = os.environ
                start = time.perf_counter()
                subprocess.run(cmd, env=env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                runs[name].append(time.perf_counter() - start)
        for name, times in runs.items():
            print(f"{name}: median {statistics.median(times):.2f} s, runs "
                  + " ".join(f"{t:.2f}" for t in times))


if __name__ == "__main__":
    main()
