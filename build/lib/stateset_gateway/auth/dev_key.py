"""The development API key `serve` prints, so a new user can query GraphiQL at once.

Made only in the development environment, only when no live key named "development" exists.
The database keeps only its hash, so to print it again on later starts the plaintext is kept in
`.stateset-dev-key` (mode 0600, git-ignored) next to the SQLite database, or in the working
directory for PostgreSQL. Delete the file and revoke the key to get a new one.
"""

from __future__ import annotations

import os
from pathlib import Path

from stateset_gateway.auth import api_keys
from stateset_gateway.auth.permissions import ADMIN
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database

KEY_FILE = ".stateset-dev-key"


def key_path(settings: Settings) -> Path:
    if settings.database_kind == "sqlite":
        database = settings.sqlalchemy_url.database
        if database and database != ":memory:":
            return Path(database).resolve().parent / KEY_FILE
    return Path.cwd() / KEY_FILE


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _write(path: Path, key: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        return True
    except OSError:
        return False


async def ensure_development_key(db: Database, settings: Settings) -> list[str]:
    """Lines for `serve` to print: the key (new or remembered), or a note that one exists."""
    if not settings.is_development:
        return []
    path = key_path(settings)
    existing = await api_keys.find_development_key(db)
    if existing is None:
        issued = await api_keys.create_api_key(db, name=api_keys.DEVELOPMENT_KEY_NAME, permissions=[ADMIN])
        saved = _write(path, issued.key)
        return [f"Dev API key (admin): {issued.key}",
                f"  send it as the X-API-Key header{f'; kept in {path}' if saved else ''}"]
    remembered = _read(path)
    if remembered and api_keys.hash_key(remembered) == existing.key_hash:
        return [f"Dev API key (admin): {remembered}", "  send it as the X-API-Key header"]
    return [f"Dev API key: a key named '{api_keys.DEVELOPMENT_KEY_NAME}' exists ({existing.prefix}...) but its "
            f"value is not in {path}; revoke it or make another: "
            "stateset-cli auth api-keys create --name dev --permissions 'admin:*'"]
