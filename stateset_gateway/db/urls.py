"""Database URLs as operators write them (`postgres://`, `stateset.db`) -> SQLAlchemy async URLs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def to_sqlalchemy_url(url: str) -> URL:
    raw = url.strip()
    if "://" not in raw:  # a bare file name: `stateset.db`
        raw = f"sqlite:///{raw}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ValueError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///FILE or postgres://USER@HOST/DB")


def database_kind(url: str) -> str:
    return to_sqlalchemy_url(url).get_backend_name()
