"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106's recommended type).

Hashing costs tens of milliseconds of CPU on purpose, so it runs in a worker thread and never stalls
the event loop. Logins for unknown emails verify against a dummy hash, so the response time does not
tell an attacker which emails are registered.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # Argon2id, time_cost=3, memory_cost=64 MiB, parallelism=4


@cache
def _dummy_hash() -> str:
    return _hasher.hash("dummy password that matches nothing")


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with `password_hash` None it spends the same time and says False."""
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash used weaker parameters than today's, so login can upgrade it."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
