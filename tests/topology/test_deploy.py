"""deploy/ stays true to the code: the image installs every package, the env file names every
variable, and the manifests run real commands with both tiers scaled apart. `make lint`
validates the files themselves (`make lint-deploy`): here, that it does reject a broken one."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import main
from server.config import DEFAULT_TRUSTED_PROXIES, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VARIABLE = re.compile(r"\bMEETINGS_[A-Z_]+\b")


def _installed_packages() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(pyproject["tool"]["setuptools"]["packages"])


def _env_file_names() -> set[str]:
    lines = (DEPLOY / "meetings.env").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_pip_install_packages_every_python_package_of_the_service() -> None:
    # A package missing from pyproject's list is missing from `pip install .`, so from the
    # image, while an editable install (and so the test suite) still finds it.
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("cli", "gateway", "server", "store")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found - _installed_packages() == set()


def test_the_image_build_context_holds_every_installed_package() -> None:
    allowed = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    roots = {package.split(".")[0] for package in _installed_packages()} - {"heypeers"}
    assert {f"!{root}/" for root in roots | {"generated"}} <= set(allowed)


def test_the_image_installs_as_a_non_root_user_with_a_health_check() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^RUN .*pip install /src$", dockerfile, re.M)
    assert re.search(r"^USER 10001", dockerfile, re.M)
    assert re.search(r'^\s+CMD \["meetings", "health"', dockerfile, re.M)


def test_the_env_file_names_every_variable_the_code_reads() -> None:
    read = {
        name
        for top in ("cli", "gateway", "server", "store")
        for source in (ROOT / top).rglob("*.py")
        for name in VARIABLE.findall(source.read_text())
    }
    assert read - _env_file_names() == set()


def _manifests(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_kubernetes_scales_the_gateway_and_the_grpc_tier_apart() -> None:
    docs = _manifests("kubernetes.yaml")
    deployments = _by_kind(docs, "Deployment")
    assert set(deployments) == {"meetings-grpc", "meetings-gateway"}
    scaled = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in _by_kind(docs, "HorizontalPodAutoscaler").values()
    }
    assert scaled == set(deployments)
    containers = {
        name: deployment["spec"]["template"]["spec"]["containers"][0]
        for name, deployment in deployments.items()
    }
    assert containers["meetings-grpc"]["args"][0] == "grpc-server"
    assert containers["meetings-gateway"]["args"][0] == "gateway"
    for container in containers.values():
        assert container["args"][0] in main.commands
        assert {"readinessProbe", "livenessProbe"} <= set(container)
    assert containers["meetings-grpc"]["readinessProbe"]["grpc"]["port"] == 50051
    assert containers["meetings-gateway"]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert containers["meetings-gateway"]["livenessProbe"]["httpGet"]["path"] == "/healthz"

    grpc_env = {e["name"]: e for e in containers["meetings-grpc"]["env"]}
    assert grpc_env["MEETINGS_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] in _by_kind(
        docs, "Secret"
    )
    # The gateway never touches the database and never signs tokens.
    gateway_env = {e["name"] for e in containers["meetings-gateway"]["env"]}
    assert not gateway_env & {"MEETINGS_DATABASE_URL", "MEETINGS_JWT_SECRET"}
    # The gateway's upstream is the headless Service: DNS lists every gRPC pod.
    services = _by_kind(docs, "Service")
    assert services["meetings-grpc"]["spec"]["clusterIP"] == "None"
    config = _by_kind(docs, "ConfigMap")["meetings-config"]["data"]
    assert config["MEETINGS_UPSTREAM"].startswith("meetings-grpc.")
    names = set(config) | grpc_env.keys() | gateway_env
    assert names <= _env_file_names()


def test_compose_runs_real_commands_with_known_variables() -> None:
    (compose,) = _manifests("compose.yaml")
    for name, service in compose["services"].items():
        if name == "postgres":
            continue
        if "command" in service:
            assert service["command"][0] in main.commands
        assert set(service.get("environment", {})) <= _env_file_names()


def _trusted(value: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    """MEETINGS_TRUSTED_PROXIES as the gRPC tier reads it (an unusable value fails here)."""
    monkeypatch.setenv("MEETINGS_TRUSTED_PROXIES", value)
    return Settings.from_env().trusted_proxies


def test_kubernetes_grpc_tier_trusts_the_gateways_and_only_they_reach_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Split out, the gRPC tier sees the gateways' pod addresses, not loopback: without the
    # setting every REST client would count as its gateway for the brute-force throttle.
    docs = _manifests("kubernetes.yaml")
    grpc = _by_kind(docs, "Deployment")["meetings-grpc"]
    container = grpc["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    trusted = _trusted(env["MEETINGS_TRUSTED_PROXIES"]["value"], monkeypatch)
    assert trusted != DEFAULT_TRUSTED_PROXIES
    assert all(ipaddress.ip_network(network).num_addresses > 1 for network in trusted)
    # Trusting the pod network is safe only if nothing but a gateway can connect.
    gateway_labels = _by_kind(docs, "Deployment")["meetings-gateway"]["spec"]["selector"]
    (policy,) = (
        p
        for p in _by_kind(docs, "NetworkPolicy").values()
        if p["spec"]["podSelector"] == grpc["spec"]["selector"]
    )
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": gateway_labels}]
    assert [port["port"] for port in rule["ports"]] == [50051]


def test_compose_grpc_tier_trusts_exactly_the_network_it_shares_with_the_gateways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (compose,) = _manifests("compose.yaml")
    services = compose["services"]
    grpc, gateway = services["grpc"], services["gateway"]
    (shared,) = set(grpc["networks"]) & set(gateway["networks"])
    # Nothing but the gateways can reach the gRPC tier over it...
    assert [name for name, s in services.items() if shared in s.get("networks", [])] == [
        "grpc",
        "gateway",
    ]
    network = compose["networks"][shared]
    assert network["internal"] is True
    subnets = {config["subnet"] for config in network["ipam"]["config"]}
    # ... and the gRPC tier trusts that network's range, and nothing else.
    trusted = _trusted(grpc["environment"]["MEETINGS_TRUSTED_PROXIES"], monkeypatch)
    assert set(trusted) == subnets
    # Clients reach the gateways; the gRPC tier publishes no port.
    assert "ports" in gateway and "ports" not in grpc


# One mistake per file, each of a kind only a schema or a linter sees: the YAML still parses.
BROKEN = [
    ("kubernetes.yaml", "  replicas: 3\n", "  replica: 3\n", "'replica' was unexpected"),
    ("kubernetes.yaml", "containerPort: 50051}", 'containerPort: "50051"}', "'50051' is not"),
    ("compose.yaml", "condition: service_healthy", "condition: healthy", "'healthy' is not one"),
    ("compose.yaml", "  stop_grace_period:", "  stop_grace:", "'stop_grace' was unexpected"),
    ("Dockerfile", "WORKDIR /data\n", "RUN cd /data\n", "DL3003"),
]


def _lint_deploy(directory: Path) -> subprocess.CompletedProcess[str]:
    """`make lint-deploy` on `directory`, with this interpreter's tools, installing nothing."""
    return subprocess.run(
        [
            "make",
            "-s",
            "lint-deploy",
            f"DEPLOY_DIR={directory}",
            f"BIN={Path(sys.executable).parent}",
            "STAMP=",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("name", "good", "bad", "reported"), BROKEN)
def test_lint_deploy_rejects_a_broken_file(
    name: str, good: str, bad: str, reported: str, tmp_path: Path
) -> None:
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    text = (copy / name).read_text()
    assert good in text
    (copy / name).write_text(text.replace(good, bad, 1))
    result = _lint_deploy(copy)
    assert result.returncode != 0
    assert reported in result.stdout + result.stderr


def test_make_lint_validates_deploy() -> None:
    planned = subprocess.run(
        ["make", "-n", "lint", "STAMP="], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert planned.returncode == 0, planned.stderr
    for command in ("kubernetes-validate", "check-jsonschema", "hadolint"):
        assert command in planned.stdout
