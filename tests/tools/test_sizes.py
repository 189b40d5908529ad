from __future__ import annotations

from pathlib import Path

import pytest

from tools import sizes


def _function(lines: int) -> str:
    """A decorated function whose body is exactly `lines` lines (a docstring, then returns)."""
    body = ['    """Docstring."""'] + ["    x = 1"] * (lines - 2) + ["    return x"]
    return "\n".join(["@decorator", "def f(", "    a: int,", ") -> int:", *body, ""])


def test_a_function_is_measured_by_its_body_not_its_signature(tmp_path: Path) -> None:
    ok = tmp_path / "ok.py"
    ok.write_text(_function(60))
    over = tmp_path / "over.py"
    over.write_text(_function(61))
    assert list(sizes.oversizes(ok, 500, 60)) == []
    [found] = sizes.oversizes(over, 500, 60)
    assert (found.what, found.line, found.lines) == ("function f", 2, 61)


def test_a_module_over_the_limit_is_reported_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "long.py"
    module.write_text("x = 1\n" * 501)
    (tmp_path / "short.py").write_text("x = 1\n" * 500)
    assert sizes.main([str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"{module}:1: module is 501 lines (limit 500)\n"
    module.unlink()
    assert sizes.main([str(tmp_path)]) == 0
