#!/usr/bin/env python3
"""A protocol backend that answers from a table and misbehaves on purpose, for the exec
backend's tests. Standard library only.

    scripted.py ANSWERS.json MODE

ANSWERS.json maps each query to its list of paths. MODE is one of:
  ok             answer every request
  hang:Q         never answer query Q (answer the others)
  ignore-term:Q  as hang, and ignore SIGTERM too
  crash-every:N  exit with status 3 (after a line on stderr) on every N-th request of a
                 process, counted across processes in the file $STATE
  garbage:Q      print a line that is not JSON instead of answering Q
  stale          print an answer to an unknown id before each real answer
  slow-start:S   sleep S seconds before the handshake
  version:V      claim protocol version V
  no-handshake   print an answer where the handshake should be
  concurrent     say `concurrent` in the handshake and answer each request on a thread of
                 its own after a short random delay, so answers come out of order
  concurrent-hang:Q  as concurrent, and never answer query Q
  concurrent-garbage:Q  as concurrent, and print a line that is not JSON for query Q
"""
import json
import os
import random
import signal
import sys
import threading
import time

answers = json.load(open(sys.argv[1]))
mode = sys.argv[2]
kind, _, arg = mode.partition(":")

if kind == "slow-start":
    time.sleep(float(arg))
if kind == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if kind == "no-handshake":
    say({"id": "x", "hits": []})
else:
    say({
        "protocol": int(arg) if kind == "version" else 1,
        "engine": "scripted",
        "version": mode,
        "query_types": ["SpecialCharacters", "BooleanOr", "Regex"],
        "concurrent": kind.startswith("concurrent"),
    })

write_lock = threading.Lock()


def answer(req):
    q = req["query"]
    if q not in answers:
        obj = {"id": req["id"], "error": {"kind": "rejected", "message": "unknown query"}}
    else:
        obj = {"id": req["id"], "hits": [{"path": p} for p in answers[q]]}
    with write_lock:
        say(obj)


def answer_later(req):
    if kind == "concurrent-hang" and req["query"] == arg:
        return
    if kind == "concurrent-garbage" and req["query"] == arg:
        with write_lock:
            sys.stdout.write("Traceback (most recent call last): oops\n")
            sys.stdout.flush()
        return
    time.sleep(random.uniform(0, 0.02))
    answer(req)


if kind.startswith("concurrent"):
    for line in sys.stdin:
        threading.Thread(target=answer_later, args=(json.loads(line),), daemon=True).start()
    sys.exit(0)

for line in sys.stdin:
    req = json.loads(line)
    q = req["query"]
    if kind in ("hang", "ignore-term") and q == arg:
        time.sleep(3600)
    if kind == "garbage" and q == arg:
        sys.stdout.write("Traceback (most recent call last): oops\n")
        sys.stdout.flush()
        continue
    if kind == "crash-every":
        state = os.environ["STATE"]
        n = int(open(state).read() or "0") + 1 if os.path.exists(state) else 1
        open(state, "w").write(str(n))
        if n % int(arg) == 0:
            sys.stderr.write("scripted: crashing on purpose\n")
            sys.stderr.flush()
            sys.exit(3)
    if kind == "stale":
        say({"id": "no-such-id", "hits": [{"path": "wrong.rs"}]})
    if q not in answers:
        say({"id": req["id"], "error": {"kind": "rejected", "message": "unknown query"}})
    else:
        say({"id": req["id"], "hits": [{"path": p} for p in answers[q]]})
