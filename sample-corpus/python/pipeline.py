"""Data pipeline with decorators and type hints."""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional


def decorator(func: Callable) -> Callable:
    """A plain decorator that logs calls."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        print(f"calling {func.__name__}")
        return func(*args, **kwargs)

    return wrapper


def retry(times: int = 3, delay: float = 0.1):
    def outer(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            last: Optional[Exception] = None
            for _ in range(times):
                try:
                    return func(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001
                    last = exc
                    time.sleep(delay)
            raise RuntimeError("retries exhausted") from last

        return inner

    return outer


@dataclass
class DataFrame:
    columns: List[str]
    rows: List[Dict[str, float]] = field(default_factory=list)

    def select(self, *names: str) -> "DataFrame":
        return DataFrame(list(names), [{n: r[n] for n in names} for r in self.rows])

    def __len__(self) -> int:
        return len(self.rows)


class DataLoader:
    def __init__(self, path: str) -> None:
        self.path = path

    @decorator
    def load(self) -> DataFrame:
        with open(self.path) as fh:
            header = fh.readline().strip().split(",")
            rows = [dict(zip(header, map(float, line.split(",")))) for line in fh]
        return DataFrame(header, rows)


@retry(times=5)
def fetch_data(url: str) -> bytes:
    raise ConnectionError(url)


def main() -> None:
    loader = DataLoader("data.csv")
    frame = loader.load()
    print(len(frame), frame.columns)


if __name__ == "__main__":
    main()
