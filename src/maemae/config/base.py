"""The base of every config section: frozen, no unknown keys, and typed values for codes and money."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

from maemae.domain.codes import StockCode
from maemae.errors import InvalidStockCode


class Section(BaseModel):
    """A config section: immutable once loaded, and a typo in a key is an error, not a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _stock_code(value: Any) -> StockCode:
    try:
        return StockCode(value)
    except InvalidStockCode as error:
        raise ValueError("expected a 6-character KRX code like '005930'") from error


Code = Annotated[StockCode, PlainValidator(_stock_code), PlainSerializer(str, return_type=str)]
Won = Annotated[int, Field(gt=0, description="whole won")]
Seconds = Annotated[int, Field(gt=0, description="seconds")]
