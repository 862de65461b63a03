"""Users: register and sign in. The business rules of auth, shared by REST and GraphQL.

Registration validates every field at once (so a form can show all problems), lower-cases the
email so `Ann@x.io` and `ann@x.io` are one account, and hashes the password with Argon2id. Public
registration always yields the `user` role; other roles are given by an operator
(`stateset-cli auth users set-role`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from stateset_gateway import errors
from stateset_gateway.auth import passwords, tokens
from stateset_gateway.auth.login_guard import LoginGuard
from stateset_gateway.auth.permissions import ADMIN, ROLES
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.auth import User
from stateset_gateway.db.types import utcnow

log = logging.getLogger("stateset_gateway.auth")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # bounds the hashing work one request can ask for
DEFAULT_ROLE = "user"


@dataclass(frozen=True)
class Credentials:
    email: str | None
    password: str | None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_registration(email: str | None, password: str | None) -> tuple[str, str]:
    """The normalised email and the password, or VALIDATION_ERROR with a list per field."""
    problems: dict[str, list[str]] = {}
    normalised = ""
    if email is None or not email.strip():
        problems["email"] = ["Email is required"]
    else:
        try:
            normalised = normalise_email(validate_email(email.strip(), check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            problems["email"] = [f"Email is not valid: {exc}"]
    if password is None or password == "":
        problems["password"] = ["Password is required"]
    elif len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"Password must be at least {MIN_PASSWORD_LENGTH} characters"]
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems["password"] = [f"Password must be at most {MAX_PASSWORD_LENGTH} characters"]
    if problems:
        raise errors.ValidationFailed(problems)
    assert password is not None
    return normalised, password


async def register(db: Database, email: str | None, password: str | None, *, role: str = DEFAULT_ROLE) -> User:
    """Create a user; DUPLICATE_ENTRY (409, field email) when the email is taken."""
    normalised, password = validate_registration(email, password)
    if role not in ROLES:
        raise errors.ValidationFailed.field("role", f"Role must be one of: {', '.join(ROLES)}")
    async with db.reader() as session:
        taken = await session.execute(select(User.id).where(User.email == normalised))
        if taken.first() is not None:
            raise errors.DuplicateEntry("email", normalised, "A user with this email already exists")
    user = User(email=normalised, password_hash=await passwords.hash_password(password), role=role)
    try:
        async with db.writer() as session:
            session.add(user)
    except sa_exc.IntegrityError:  # lost a race with a concurrent registration of the same email
        raise errors.DuplicateEntry("email", normalised, "A user with this email already exists") from None
    log.info("user registered", extra={"user_id": str(user.id)})
    return user


async def self_register(db: Database, settings: Settings, email: str | None, password: str | None) -> User:
    """Public sign-up: off when `[auth] allow_registration` is false (accounts then come from an operator,
    `stateset-cli auth users create`); accounts get `[auth] registration_role`."""
    if not settings.auth.allow_registration:
        raise errors.InsufficientPermissions(
            ADMIN, "Self-registration is disabled; ask an administrator for an account")
    return await register(db, email, password, role=settings.auth.registration_role)


async def authenticate_user(db: Database, email: str | None, password: str | None) -> User:
    """The user whose credentials these are, or INVALID_CREDENTIALS. Unknown emails and disabled
    users cost the same Argon2 verification as a wrong password, so timing tells nothing."""
    email = normalise_email(email or "")
    user: User | None = None
    if email:
        async with db.reader() as session:
            user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
    valid = await passwords.verify_password(user.password_hash if user else None, password or "")
    if user is None or not valid or not user.is_active:
        raise errors.InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):  # parameters were raised since this hash was made
        new_hash = await passwords.hash_password(password or "")
        async with db.writer() as session:
            stored = await session.get(User, user.id)
            if stored is not None:
                stored.password_hash = new_hash
                stored.updated_at = utcnow()
                stored.version += 1
    return user


async def login(
    db: Database, settings: Settings, guard: LoginGuard, email: str | None, password: str | None,
    *, client_ip: str | None = None,
) -> tokens.TokenPair:
    """Sign in: brute-force guard, credential check, then a new session (access + refresh token)."""
    if not email or not password:
        problems = {}
        if not email:
            problems["email"] = ["Email is required"]
        if not password:
            problems["password"] = ["Password is required"]
        raise errors.ValidationFailed(problems)
    await guard.attempt(email, client_ip)
    try:
        user = await authenticate_user(db, email, password)
    except errors.InvalidCredentials:
        log.info("sign-in failed", extra={"client_ip": client_ip})
        raise
    await guard.succeeded(email)
    log.info("signed in", extra={"user_id": str(user.id)})
    return await tokens.start_session(db, settings, user)


async def get_user(db: Database, user_id: uuid.UUID) -> User | None:
    async with db.reader() as session:
        return await session.get(User, user_id)


async def set_role(db: Database, email: str, role: str) -> User:
    """Operator action: give a user another role (takes effect on their next request)."""
    if role not in ROLES:
        raise errors.ValidationFailed.field("role", f"Role must be one of: {', '.join(ROLES)}")
    async with db.writer() as session:
        user = (await session.execute(select(User).where(User.email == normalise_email(email)))).scalar_one_or_none()
        if user is None:
            raise errors.NotFound.resource("User", email)
        user.role = role
        user.updated_at = utcnow()
        user.version += 1
    return user


async def count_users(db: Database) -> int:
    async with db.reader() as session:
        return int((await session.execute(select(func.count()).select_from(User))).scalar_one())
