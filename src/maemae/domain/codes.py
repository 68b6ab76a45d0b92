"""``StockCode``: the 6-character KRX short code, normalised once at the edge."""

from __future__ import annotations

import re

from maemae.errors import InvalidStockCode

_SHORT_CODE = re.compile(r"^[0-9A-Z]{6}$")
# Creon prefixes A (stock, ETF), Q (ETN) and J (ELW); KIS uses Q for ETNs (reference/krx_rules.md section 7).
_PREFIXED_CODE = re.compile(r"^[AQJ][0-9A-Z]{6}$")


class StockCode(str):
    """A KRX short code such as ``005930``.

    Codes are strings, not integers: leading zeros matter and, since 2024, new listings may carry a letter.
    ``StockCode("A005930")`` (the Creon form) normalises to ``005930``; anything else that is not six
    upper-case letters or digits raises ``InvalidStockCode`` naming the value.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> StockCode:
        if isinstance(value, StockCode):
            return value
        if not isinstance(value, str):
            raise InvalidStockCode(
                f"stock code {value!r}: expected a 6-character KRX code as text, like '005930'"
            )
        text = value.strip().upper()
        if _PREFIXED_CODE.match(text):
            text = text[1:]
        if not _SHORT_CODE.match(text):
            raise InvalidStockCode(
                f"stock code {value!r}: expected 6 characters of digits or capital letters, "
                "like '005930' (or 'A005930')"
            )
        return super().__new__(cls, text)

    def __repr__(self) -> str:
        return f"StockCode('{self}')"
