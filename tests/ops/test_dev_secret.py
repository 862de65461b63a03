"""The development JWT secret is long enough that PyJWT never warns about it, whatever HMAC a
token names; outside development it is refused all the same."""

from __future__ import annotations

import warnings

import jwt
import pytest

from stateset_gateway.config import DEFAULT_JWT_SECRET, ConfigError, load_settings


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_the_development_secret_raises_no_key_length_warning(algorithm: str) -> None:
    secret = load_settings().auth.jwt_secret.get_secret_value()
    assert secret == DEFAULT_JWT_SECRET
    with warnings.catch_warnings():
        warnings.simplefilter("error", jwt.InsecureKeyLengthWarning)
        token = jwt.encode({"sub": "x"}, secret, algorithm=algorithm)
        assert jwt.decode(token, secret, algorithms=[algorithm]) == {"sub": "x"}


def test_the_development_secret_is_refused_in_production() -> None:
    with pytest.raises(ConfigError, match="APP__AUTH__JWT_SECRET"):
        load_settings(env="production")
