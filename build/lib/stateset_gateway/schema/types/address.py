"""The postal address shape, shared by order addresses and a customer's saved addresses."""

from __future__ import annotations

import strawberry


@strawberry.type
class Address:
    """Read from a `resolvers.derived.PostalAddress` (an order's) or a customer address row."""

    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
