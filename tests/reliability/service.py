"""`meetings serve` for long runs (fuzz, soak): now `tests.processes.serving_to_file`."""

from __future__ import annotations

from tests.processes import serving_to_file

__all__ = ["serving_to_file"]
