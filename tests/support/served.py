"""A gateway as `make run` starts it: `stateset-cli serve --demo` in its own process and folder, on
a free loopback port, with the demo data and the development key it prints. For tests that drive
what a person uses (a browser, the guide's commands) rather than the app in-process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

_SCRIPT = Path(sys.executable).with_name("stateset-cli")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "stateset_gateway.cli"]
NO_CONFIG = Path(__file__).parents[1] / "no-config"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli_env(**overrides: str) -> dict[str, str]:
    """This process's environment without APP__ overrides or APP_ENV, config files from the empty
    tests/no-config folder, plus `overrides`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("APP__")}
    env["APP_CONFIG_DIR"] = str(NO_CONFIG)
    env.pop("APP_ENV", None)
    env.update(overrides)
    return env


@dataclass(frozen=True)
class Served:
    url: str  # http://127.0.0.1:PORT
    key: str  # the development API key `serve` printed
    folder: Path  # its working directory: stateset.db, .stateset-dev-key, logs/
    port: int


@contextmanager
def served_gateway(folder: Path, *, start_timeout: float = 60, **env: str) -> Iterator[Served]:
    """`stateset-cli serve --demo` run in `folder` until the block ends; its output goes to
    `folder/serve.out`."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "serve.out").open("wb") as out:
        proc = subprocess.Popen([*CLI, "serve", "--demo"], cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                env=cli_env(APP__PORT=str(port), **env))
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + start_timeout
        while True:
            assert proc.poll() is None, (folder / "serve.out").read_text(errors="replace")
            assert time.monotonic() < deadline, f"serve did not answer within {start_timeout}s"
            try:
                if httpx.get(f"{url}/health/readiness", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        key = (folder / ".stateset-dev-key").read_text(encoding="utf-8").strip()
        yield Served(url=url, key=key, folder=folder, port=port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
