"""Amounts as the API writes them: the shortcut for amounts that already have two places gives the
same text as the full rule for every Decimal (hypothesis), and both transports rely on it."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stateset_gateway.resolvers.money import CENTS, MONEY_PATTERN, money_text


def by_the_rule(value: Decimal) -> str:
    cents = value.quantize(CENTS)
    return str(abs(cents) if cents.is_zero() else cents)


# any exponent: "149.99", "1E+1", "10.000", "0.0500", "-0.00", "5E-7"
amounts = st.decimals(min_value=Decimal("-9999999999.99"), max_value=Decimal("9999999999.99"),
                      allow_nan=False, allow_infinity=False) | st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(min_value=-(10**11), max_value=10**11), st.integers(min_value=-9, max_value=0))


@given(amounts)
def test_any_decimal_is_written_in_cents_as_the_rule_says(value: Decimal) -> None:
    assert money_text(value) == by_the_rule(value)
    assert re.fullmatch(MONEY_PATTERN, money_text(value))


def test_edge_amounts() -> None:
    cases = {"-0.00": "0.00", "0.00": "0.00", "-0": "0.00", "-0.001": "0.00", "1E+1": "10.00", "5": "5.00",
             "149.99": "149.99", "-5.05": "-5.05", "0.005": "0.00", "0.015": "0.02", "12.3": "12.30"}
    for given_text, written in cases.items():
        assert money_text(Decimal(given_text)) == written, given_text
    assert money_text(5) == "5.00" and money_text("7.1") == "7.10"
