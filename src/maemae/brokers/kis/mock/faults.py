"""Faults the local KIS server injects on request (``POST /_mock/faults``), each as KIS would show it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Faults(BaseModel):
    """Counters count down one per affected request; flags stay until turned off."""

    latency_ms: int = Field(0, ge=0, le=60_000, description="delay before every REST reply")
    server_errors: int = Field(0, ge=0, description="next N REST requests: HTTP 500, nothing done")
    rate_limits: int = Field(0, ge=0, description="next N REST requests: EGW00201, nothing done")
    lost_replies: int = Field(0, ge=0, description="next N orders: carried out, the reply never comes")
    lost_reply_hold_s: float = Field(3.0, ge=0, le=120, description="how long a lost reply is held")
    duplicate_notices: bool = Field(False, description="push every fill notice twice")
    reorder_notices: bool = Field(False, description="push each batch of notices in reverse order")


class FaultRequest(BaseModel):
    """The body of ``POST /_mock/faults``: new settings, and one-off actions."""

    set: Faults | None = None
    drop_websockets: bool = False  # close every WebSocket now (clients must reconnect)
    expire_tokens: bool = False  # every token issued so far stops working (EGW00123)
