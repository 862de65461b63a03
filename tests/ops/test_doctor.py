"""`stateset-cli doctor`, run as an operator runs it: the guide's diagnostic information in one
command, secrets masked, and exit 1 when the database, its migrations or Redis are not right."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from stateset_gateway import __version__
from stateset_gateway.db.migrate import revisions
from tests.support.served import CLI, cli_env, free_port

SECRET = "a-very-secret-value-of-more-than-32-chars"


def _doctor(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "doctor"], env=cli_env(APP__AUTH__JWT_SECRET=SECRET, **env), capture_output=True,
                          text=True, timeout=120, check=False)


def test_doctor_reports_everything_and_passes_on_a_healthy_setup(tmp_path: Path, redis_url: str) -> None:
    database = tmp_path / "stateset.db"
    migrated = subprocess.run([*CLI, "migrate", "up"], env=cli_env(APP__DATABASE_URL=f"sqlite:///{database}"),
                              capture_output=True, text=True, timeout=120, check=False)
    assert migrated.returncode == 0, migrated.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = _doctor(APP__DATABASE_URL=f"sqlite:///{database}", APP__REDIS_URL=redis_url, APP__PORT=str(port))
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert out.startswith(f"StateSet Gateway {__version__}") and "Python 3." in out
    assert SECRET not in out and '"jwt_secret": "********"' in out
    assert "ok    database: sqlite:///" in out and "migrations up to date" in out
    assert f"ok    redis: {redis_url}: PONG" in out
    assert f"127.0.0.1:{port} is in use" in out and f"lsof -i :{port}" in out
    assert "log file: logs/stateset.log" in out


def test_doctor_fails_naming_what_is_wrong(tmp_path: Path) -> None:
    port = free_port()
    missing = _doctor(APP__DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}", APP__PORT=str(port),
                      APP__REDIS_URL="redis://127.0.0.1:1")
    assert missing.returncode == 1
    assert "FAIL  database:" in missing.stdout and "does not exist yet" in missing.stdout
    assert "FAIL  redis: redis://127.0.0.1:1: unreachable" in missing.stdout
    assert f"ok    port: 127.0.0.1:{port} is free" in missing.stdout
    assert not (tmp_path / "none.db").exists()  # it only looks

    behind = tmp_path / "behind.db"
    behind.touch()  # an empty database: every migration pending
    pending = _doctor(APP__DATABASE_URL=f"sqlite:///{behind}")
    assert pending.returncode == 1 and f"migrations pending: {', '.join(revisions())}" in pending.stdout
    assert "run `stateset-cli migrate up`" in pending.stdout
