"""Module and function sizes: no module over 500 lines, no function over 60.

A module's size is its number of lines. A function's is the span of its body, from the first
statement (its docstring, when it has one) to the last line of the def: the signature and the
decorators do not count, nested functions count in their parent and again on their own. Lines,
not statements, because the habit is about what a reader has to hold on one screen.

    python -m tools.sizes [PATH ...]    # default: server gateway store cli
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.protopaths import ROOT

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
DEFAULT_PATHS = ("server", "gateway", "store", "cli")


@dataclass(frozen=True)
class Oversize:
    path: Path
    line: int
    what: str
    lines: int
    limit: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} is {self.lines} lines (limit {self.limit})"


def python_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.py"))
        else:
            yield path


def function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The body's span: first statement to the def's last line."""
    end = node.end_lineno if node.end_lineno is not None else node.body[-1].lineno
    return end - node.body[0].lineno + 1


def oversizes(path: Path, max_module: int, max_function: int) -> Iterator[Oversize]:
    source = path.read_text(encoding="utf-8")
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    module_lines = len(source.splitlines())
    if module_lines > max_module:
        yield Oversize(shown, 1, "module", module_lines, max_module)
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = function_lines(node)
            if lines > max_function:
                yield Oversize(shown, node.lineno, f"function {node.name}", lines, max_function)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or directories")
    parser.add_argument("--max-module-lines", type=int, default=MAX_MODULE_LINES)
    parser.add_argument("--max-function-lines", type=int, default=MAX_FUNCTION_LINES)
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or [ROOT / name for name in DEFAULT_PATHS]
    found = [
        oversize
        for file in python_files(paths)
        for oversize in oversizes(file, args.max_module_lines, args.max_function_lines)
    ]
    for oversize in sorted(found, key=lambda o: (str(o.path), o.line)):
        print(oversize)
    if found:
        print(f"sizes: {len(found)} over the limits", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
