#!/usr/bin/env python3
"""A complete Verity backend in Python, standard library only.

It is a (deliberately small) search engine: it answers literal queries - Verity's
SpecialCharacters cases, `lit:...` or a plain term - by reading every file of the corpus,
and reports the matching lines so that content rules are checked too. Everything else it
declines in its handshake, and Verity counts those cases as unsupported.

    verity validate --backend "exec:python3 examples/verity_backend.py"

The protocol (docs/backends.md): the first line we print is the handshake; then for each
request line on stdin we print exactly one response line with the same id.
"""

import json
import os
import sys

MAX_FILESIZE = 10 * 1024 * 1024
EXCLUDED_DIRS = {".git", "target", "node_modules"}


def handshake():
    return {
        "protocol": 1,
        "engine": "python-example",
        "version": "1.0",
        "query_types": ["SpecialCharacters"],
        "lines": True,
        # The files this engine searches. It reads no .gitignore files, so it says so and
        # Verity computes the truth over the same files.
        "walk": {
            "hidden": False,
            "ignore_files": False,
            "default_excludes": True,
            "max_filesize": MAX_FILESIZE,
        },
    }


def corpus_files(root):
    """(relative path, text) of every text file, as docs/query-language.md section 1 says."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and d not in EXCLUDED_DIRS
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if os.path.getsize(path) > MAX_FILESIZE:
                continue
            with open(path, "rb") as f:
                data = f.read()
            if b"\0" in data:
                continue  # binary
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            yield rel, data.decode("utf-8", errors="replace")


def lines_of(text):
    if not text:
        return []
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def literal_of(query):
    """The literal a SpecialCharacters query asks for (query language, sections 2 and 3)."""
    if query.startswith("lit:"):
        return query[4:]
    return query.strip()


def search(request, cache):
    if request["query_type"] != "SpecialCharacters":
        return {"error": {"kind": "unsupported", "message": "literals only"}}
    needle = literal_of(request["query"])
    if not needle or "\n" in needle:
        return {"error": {"kind": "unsupported", "message": "an empty or multi-line literal"}}
    root = request["corpus"]
    if root not in cache:
        cache[root] = list(corpus_files(root))
    hits = []
    for path, text in cache[root]:
        if needle not in text:
            continue
        lines = [
            {"line": n, "text": line.rstrip("\r")}
            for n, line in enumerate(lines_of(text), start=1)
            if needle in line
        ]
        hits.append({"path": path, "lines": lines})
    return {"hits": hits}


def main():
    out = sys.stdout
    out.write(json.dumps(handshake()) + "\n")
    out.flush()
    cache = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        request = None
        try:
            request = json.loads(line)
            response = search(request, cache)
            response["id"] = request["id"]
        except Exception as e:  # never leave Verity without an answer
            response = {
                "id": request.get("id", "") if isinstance(request, dict) else "",
                "error": {"kind": "unavailable", "message": repr(e)},
            }
        out.write(json.dumps(response) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
