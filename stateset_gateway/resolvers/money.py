"""Money as the API reads and writes it, one rule for both transports.

In: a string of plain decimal digits (`"149.99"`, `"-5"`, `"0.5"`), or a JSON number that writes
the same way. Python's `Decimal` is far more liberal (`"1_000"`, `" 5 "`, `"1e3"`, `"NaN"`, Arabic-Indic
digits): each of those is refused rather than guessed at. Out: a string of cents (`"149.99"`, `"0.00"`),
zero never signed, which is what the OpenAPI pattern `MONEY_PATTERN` promises.
"""

from __future__ import annotations

import re
from decimal import Decimal

CENTS = Decimal("0.01")
MONEY_MAX = Decimal("9999999999.99")  # what a NUMERIC(12, 2) column holds
MONEY_PATTERN = r"^-?\d+\.\d{2}$"
# What a client may send: a sign, ASCII digits, and at most one fraction (no exponent, no spaces).
_INPUT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MALFORMED = "Must be a decimal number written with digits and an optional fraction, e.g. \"149.99\""


def parse_money(value: object) -> Decimal:
    """The amount `value` writes, or ValueError (with `MALFORMED`) for anything but plain digits."""
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(MALFORMED)
    if not _INPUT.fullmatch(text):
        raise ValueError(MALFORMED)
    amount = Decimal(text)
    return abs(amount) if amount.is_zero() else amount  # "-0" is the amount zero


def money_text(value: Decimal | int | str) -> str:
    """An amount as the API writes it: cents, `"0.00"` rather than `"-0.00"`.

    An amount read from a money column (NUMERIC(12, 2), quantized on SQLite) already has two places,
    and its `str` is the answer: a Decimal writes ".dd" last only when its exponent is -2 (scientific
    notation ends in an exponent). That case skips the quantize and its new Decimal, a third of the
    cost of a page's amounts."""
    if type(value) is Decimal:
        text = str(value)
        if text[-3:-2] == "." and text != "-0.00":
            return text
    cents = Decimal(value).quantize(CENTS)
    return str(abs(cents) if cents.is_zero() else cents)
