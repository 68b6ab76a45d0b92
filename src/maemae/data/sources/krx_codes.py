"""What a KRX code and name say about the instrument: preferred shares and SPACs (스팩) by KRX's naming."""

from __future__ import annotations

from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType


def instrument_type_of(code: StockCode, name: str, *, fund: InstrumentType | None = None) -> InstrumentType:
    """A fund's type when the source says it is one; a SPAC by its name (``스팩``); a preferred share by its
    code (common shares end in 0; preferred ones in 5, 7, 9 or a letter, e.g. ``005935``, ``00088K``) or its
    name (``우``, ``우B``)."""
    if fund is not None:
        return fund
    if "스팩" in name:
        return InstrumentType.SPAC
    last = str(code)[-1]
    if last != "0" or name.endswith(("우", "우B", "우C")) or "(전환)" in name:
        return InstrumentType.PREFERRED
    return InstrumentType.STOCK
