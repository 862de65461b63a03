"""How an order's money adds up: line totals and order totals, rounded to the cent.

One source for the operations and the demo data, so both write totals that agree to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

CENT = Decimal("0.01")


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return (unit_price * quantity).quantize(CENT)


def order_totals(line_totals: Iterable[Decimal], *, tax: Decimal, shipping: Decimal,
                 discount: Decimal) -> tuple[Decimal, Decimal]:
    """(subtotal, total) of an order with these line totals and charges."""
    subtotal = sum(line_totals, Decimal("0.00")).quantize(CENT)
    return subtotal, (subtotal + tax + shipping - discount).quantize(CENT)
