"""Where protoc finds the protos this project imports."""

from __future__ import annotations

from pathlib import Path

import google.api
import grpc_tools

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def googleapis_root() -> Path:
    """The site-packages folder holding google/api/*.proto from googleapis-common-protos."""
    return Path(next(iter(google.api.__path__))).parent.parent


def well_known_root() -> Path:
    """The folder holding google/protobuf/*.proto, shipped with grpcio-tools."""
    return Path(next(iter(grpc_tools.__path__))) / "_proto"


def project_protos() -> list[Path]:
    """Every .proto file of this project, relative to protos/."""
    return sorted(p.relative_to(PROTOS) for p in PROTOS.rglob("*.proto"))
