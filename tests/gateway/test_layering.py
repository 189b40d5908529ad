"""The gateway reaches the server over gRPC alone: importing it loads none of the server's
code, the store's, or their database and token libraries (lint-imports checks the import
graph; this checks what an interpreter actually loads, third-party modules included)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Top-level packages a gateway process has no use for.
NOT_IN_THE_GATEWAY = ("server", "store", "cli", "peewee", "psycopg2", "jwt")


def test_importing_the_gateway_loads_neither_the_server_nor_the_store() -> None:
    # A fresh interpreter: the test process has imported everything already.
    program = (
        "import json, sys\n"
        "import gateway.app\n"
        "print(json.dumps(sorted({name.partition('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert "gateway" in loaded
    assert loaded.isdisjoint(NOT_IN_THE_GATEWAY), sorted(loaded & set(NOT_IN_THE_GATEWAY))
