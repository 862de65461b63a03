"""Who is calling: named once per request, from what the request presents, for everything that asks.

The request-context layer reads the credentials (`X-API-Key`, `Authorization`) and the client
address in its one pass over the headers into a `Caller`. Then:

- authentication reads the credentials from it (a bearer token's signature is checked once, here,
  for the budgets and for authentication alike) and tells it whom they belong to;
- the rate limit and the GraphQL cost budget count against `Caller.budget_key()`: a signed-in user
  (all of a user's tokens share one budget), else an API key this app has seen authenticate, else
  the client address. A key not seen yet (a made-up one included) counts against the address, so
  inventing keys buys no budget. The keys seen are remembered by `Callers`, one per application;
  authentication confirms them through the request's own caller, so neither module knows the other;
- idempotency keys are namespaced by the authenticated principal (`Principal.client_key`, the same
  names as the budgets), else the address.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from stateset_gateway import errors
from stateset_gateway.auth import api_keys, tokens
from stateset_gateway.auth.principal import Principal, client_key
from stateset_gateway.config import Settings


def bearer_token(authorization: str) -> str:
    """The token of `Bearer <token>`; anything else in Authorization is INVALID_TOKEN."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise errors.InvalidToken("Authorization header must be 'Bearer <token>'")
    return token


def bearer_api_key(authorization: str) -> str | None:
    """The API key of `Bearer sk_...` (as StateSet's SDKs send their key), else None: such a bearer
    credential is an API key, checked as one and never decoded as a token."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token.startswith(api_keys.KEY_PREFIX) else None


def _present(values: list[bytes]) -> list[str]:
    """The header's values as sent, stripped; a blank one counts as absent."""
    return [text for text in (value.decode("latin-1").strip() for value in values) if text]


class Callers:
    """The application's memory of API keys seen to authenticate: key digest -> client key, the
    oldest forgotten past `size`."""

    def __init__(self, settings: Settings, size: int = 10_000) -> None:
        self.settings = settings
        self.size = size
        self._keys: OrderedDict[str, str] = OrderedDict()

    def identify(self, api_key_headers: list[bytes], authorization_headers: list[bytes],
                 client: tuple[str, int] | None) -> Caller:
        """The caller of a request that sent these `X-API-Key` and `Authorization` header values."""
        keys = _present(api_key_headers)
        authorizations = _present(authorization_headers)
        refusal: errors.DomainError | None = None
        if len(authorizations) > 1:
            refusal = errors.InvalidToken(
                f"Send one Authorization header; this request has {len(authorizations)}")
        authorization = authorizations[0] if authorizations else None
        if authorization is not None and (key := bearer_api_key(authorization)) is not None:
            keys.append(key)
            authorization = None
        if len(keys) > 1:
            refusal = errors.InvalidApiKey(
                f"Send one API key (X-API-Key, or Authorization: Bearer sk_...); this request has {len(keys)}")
        return Caller(self, keys[0] if keys else None, authorization, client, refusal)

    def known_key(self, digest: str) -> str | None:
        return self._keys.get(digest)

    def remember_key(self, digest: str, name: str) -> None:
        keys = self._keys
        keys[digest] = name
        keys.move_to_end(digest)
        if len(keys) > self.size:
            keys.popitem(last=False)


class Caller:
    """`api_key` the API key presented (X-API-Key, or a bearer credential that is a key),
    `authorization` the Authorization header when it is not an API key, `client` the ASGI client
    address. `refusal` is the 401 that credentials presented more than once of a kind (two API
    keys, two Authorization headers, identical or not) get before anything is looked up: which one
    was meant cannot be known, so none is guessed."""

    __slots__ = ("callers", "api_key", "authorization", "client", "refusal", "_budget_key", "_claims", "_digest")

    def __init__(self, callers: Callers, api_key: str | None, authorization: str | None,
                 client: tuple[str, int] | None, refusal: errors.DomainError | None = None) -> None:
        self.callers = callers
        self.api_key = api_key
        self.authorization = authorization
        self.client = client
        self.refusal = refusal
        self._budget_key: str | None = None
        self._claims: dict[str, Any] | errors.DomainError | None = None
        self._digest: str | None = None

    @property
    def address(self) -> str:
        return f"ip:{self.client[0] if self.client else 'unknown'}"

    def key_digest(self) -> str:
        """The API key's digest, as the database and the memory of keys seen keep it."""
        assert self.api_key is not None
        if self._digest is None:
            self._digest = api_keys.hash_key(self.api_key)
        return self._digest

    def access_claims(self) -> dict[str, Any]:
        """The verified claims of the bearer token, checked once per request; raises the error
        authentication answers for a bad one."""
        claims = self._claims
        if claims is None:
            assert self.authorization is not None
            try:
                claims = tokens.decode_token(self.callers.settings, bearer_token(self.authorization), "access")
            except errors.DomainError as exc:
                claims = exc
            self._claims = claims
        if isinstance(claims, errors.DomainError):
            raise claims
        return claims

    def budget_key(self) -> str:
        """The name the rate limit and the cost budget count this request against."""
        name = self._budget_key
        if name is None:
            name = self._budget_key = self._name_for_budgets()
        return name

    def _name_for_budgets(self) -> str:
        if self.refusal is not None:
            return self.address  # authentication refuses it on this same request
        if self.api_key is not None:
            return self.callers.known_key(self.key_digest()) or self.address
        if self.authorization is not None:
            try:
                claims = self.access_claims()
            except errors.DomainError:
                return self.address  # authentication refuses it on this same request
            return client_key("api_key" if claims.get("kind") == "api_key" else "user", claims["sub"])
        return self.address

    def authenticated_as(self, principal: Principal) -> None:
        """Authentication found these credentials good: an API key counts as itself from now on."""
        if self.api_key is not None:
            self.callers.remember_key(self.key_digest(), principal.client_key)

    def namespace(self, principal: Principal | None) -> str:
        """Whose idempotency keys these are: the principal's, else the address's."""
        return principal.client_key if principal is not None else self.address
