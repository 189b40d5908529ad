"""README's "How a request flows" names real code: every `file.py:name` it cites exists, and a
page request takes at most 15 steps."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`([\w/]+\.py):([\w.]+)`")


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## How a request flows")
    return text[start : text.index("\n## ", start + 1)]


def _defined(path: Path) -> set[str]:
    """Names a module defines anywhere: functions, classes, assigned names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_step_names_code_that_exists() -> None:
    references = REFERENCE.findall(_section())
    assert len(references) > 30
    missing = [
        f"{file}:{name}"
        for file, name in references
        if not (ROOT / file).is_file() or not set(name.split(".")) <= _defined(ROOT / file)
    ]
    assert not missing


def test_a_page_request_takes_at_most_fifteen_steps() -> None:
    section = _section()
    page = section[section.index("**A page of the export**") : section.index("**A streamed")]
    steps = [int(number) for number in re.findall(r"^(\d+)\. ", page, flags=re.MULTILINE)]
    assert steps == list(range(1, len(steps) + 1))
    assert 10 <= len(steps) <= 15
