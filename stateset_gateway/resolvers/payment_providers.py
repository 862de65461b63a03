"""Payment providers: the interface every provider implements, and the built-in `test` provider.

The operations (resolvers/payments.py) never talk to a provider's API themselves: they call
`authorize`, `capture`, `refund` and `void` here. Each call carries an idempotency key made from
the payment and the number of the call (`idempotency_key`), and keys depend only on what is
committed: a call repeated after a failure (a timeout, a rolled-back transaction) carries the same
key, so the provider answers it with the first outcome instead of charging twice.

A provider answers a call with the provider's reference for the payment, or raises `Declined`.
Adding a provider is a class with these four methods and an entry in `PROVIDERS`.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Protocol

from stateset_gateway import errors
from stateset_gateway.config import Settings


@dataclass(frozen=True)
class Charge:
    """What an authorization asks of the provider."""

    amount: Decimal
    currency: str
    token: str
    idempotency_key: str


class Declined(Exception):
    """The provider refused the call, or could not be reached (then `retryable`: the same request
    may succeed later)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


class PaymentProvider(Protocol):
    name: str

    async def authorize(self, charge: Charge) -> str:
        """Hold `charge.amount` on the payment method `charge.token`; the provider's reference."""
        ...

    async def capture(self, reference: str, amount: Decimal, idempotency_key: str) -> str:
        """Take `amount` of the authorization `reference`."""
        ...

    async def refund(self, reference: str, amount: Decimal, idempotency_key: str) -> str:
        """Give back `amount` of what `reference` captured."""
        ...

    async def void(self, reference: str, idempotency_key: str) -> str:
        """Release the authorization `reference` without taking anything."""
        ...


def idempotency_key(payment_id: uuid.UUID, call: int) -> str:
    """The key of the `call`-th provider call for a payment (1 = its authorization)."""
    return f"pay_{payment_id.hex}_{call}"


class TestProvider:
    """Charges nothing. The token decides the outcome of an authorization, as the README documents:
    `tok_visa` succeeds, `tok_chargeDeclined` is declined (`card_declined`), `tok_insufficientFunds`
    is declined (`insufficient_funds`), `tok_processingError` fails as an unreachable provider
    (`processing_error`, retryable); any other token is refused (`invalid_token`). Captures, refunds
    and voids of its own authorizations succeed. References are derived from the idempotency key,
    so a repeated call answers what the first one did."""

    name = "test"
    __test__ = False  # not a pytest class, whatever its name
    OUTCOMES: ClassVar[dict[str, Declined | None]] = {
        "tok_visa": None,
        "tok_chargeDeclined": Declined("card_declined", "Your card was declined."),
        "tok_insufficientFunds": Declined("insufficient_funds", "Your card has insufficient funds."),
        "tok_processingError": Declined(
            "processing_error", "The payment provider could not be reached; try again.", retryable=True),
    }

    @staticmethod
    def reference(kind: str, idempotency_key: str) -> str:
        """The reference the test provider answers for a call: the same key, the same reference."""
        return f"test_{kind}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"

    async def authorize(self, charge: Charge) -> str:
        if charge.token not in self.OUTCOMES:
            raise Declined("invalid_token", "The payment token is not one the test provider knows.")
        outcome = self.OUTCOMES[charge.token]
        if outcome is not None:
            raise outcome
        return self.reference("auth", charge.idempotency_key)

    async def capture(self, reference: str, amount: Decimal, idempotency_key: str) -> str:
        return reference

    async def refund(self, reference: str, amount: Decimal, idempotency_key: str) -> str:
        return self.reference("refund", idempotency_key)

    async def void(self, reference: str, idempotency_key: str) -> str:
        return reference


PROVIDERS: dict[str, type[PaymentProvider]] = {"test": TestProvider}


def provider_for(settings: Settings) -> PaymentProvider:
    """The configured provider (`[payments] provider`); without one, payments are unavailable."""
    name = settings.payment_provider
    if name is None:
        raise errors.ServiceUnavailable("No payment provider is configured ([payments] provider)",
                                        {"dependency": "payments"})
    return PROVIDERS[name]()
