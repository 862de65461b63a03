"""The inputs of the auth operations, defined once for both transports.

REST takes these models as request bodies; schema/auth.py makes its GraphQL input types from them
(schema/inputs.py's `input_type`), and passes refresh and log-out's single field as an argument.
Email and password may be absent here: `users.validate_registration` reports each missing one with
its own message, together with every other problem, which a required model field would pre-empt.
Passwords are taken as sent, never stripped.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from stateset_gateway.resolvers.inputs import Instant


class RegisterIn(BaseModel):
    email: str | None = None
    password: str | None = Field(None, description="At least 8 characters")


class LoginIn(BaseModel):
    email: str | None = None
    password: str | None = None


class RefreshIn(BaseModel):
    refresh_token: str


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(None, description="Revoke this token's session (else the access token's)")


class ApiKeyCreateIn(BaseModel):
    name: str
    permissions: list[str] = Field(examples=[["orders:read", "orders:create"]])
    expires_at: Instant | None = Field(None, description="With its UTC offset (e.g. 2099-01-01T00:00:00Z)")
