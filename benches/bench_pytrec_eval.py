"""Baseline for `verity eval`: trec_eval 9.0.8's C code through pytrec_eval-terrier.

Usage: python3 benches/bench_pytrec_eval.py QRELS RUN
Needs: pip install pytrec-eval-terrier numpy  (or pip install --target DIR ... and PYTHONPATH=DIR)
Prints the time to read the files into pytrec_eval's dictionaries, the time of
RelevanceEvaluator(qrels, {"all_trec"}).evaluate(run), and the mean map as a sanity check.
See docs/BENCHMARKS.md.
"""
import sys, time, collections
import pytrec_eval
qrels_path, run_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
qrels = collections.defaultdict(dict)
for line in open(qrels_path):
    q, _, d, r = line.split()
    qrels[q][d] = int(r)
run = collections.defaultdict(dict)
for line in open(run_path):
    q, _, d, _, s, _ = line.split()
    run[q][d] = float(s)
t1 = time.perf_counter()
ev = pytrec_eval.RelevanceEvaluator(qrels, {'all_trec'})
res = ev.evaluate(run)
t2 = time.perf_counter()
m = sum(v['map'] for v in res.values()) / len(res)
print(f"parse {t1-t0:.3f} s, evaluate {t2-t1:.3f} s, total {t2-t0:.3f} s, map {m:.4f}, queries {len(res)}")
