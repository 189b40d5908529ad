"""Copy the google protos that protos/ imports into a folder buf can read offline."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tools.protopaths import googleapis_root

# The google/api and google/type files our protos import, and what those import in turn.
NEEDED = [
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/type/datetime.proto",
    "google/type/decimal.proto",
]


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".protodeps")
    source = googleapis_root()
    for rel in NEEDED:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
