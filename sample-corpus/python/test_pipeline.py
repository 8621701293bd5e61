import pytest

from pipeline import DataFrame, retry


def test_select_keeps_named_columns():
    df = DataFrame(["a", "b"], [{"a": 1.0, "b": 2.0}])
    assert df.select("a").columns == ["a"]


def test_retry_gives_up():
    calls = []

    @retry(times=2, delay=0)
    def flaky():
        calls.append(1)
        raise ValueError("nope")

    with pytest.raises(RuntimeError):
        flaky()
    assert len(calls) == 2


def test_schema_validation():
    df = DataFrame(["a"], [{"a": 1.0}])
    assert df.columns == ["a"]
