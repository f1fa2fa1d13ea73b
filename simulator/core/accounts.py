"""Accounts: who may bind or call the APIs, how, and with what limits.

A plain data model shared by every transport and by scenario files (which can declare their
own accounts), so it lives here, below everything that uses it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.core.ids import IdFormat

BindType = Literal["transmitter", "receiver", "transceiver"]
_DEFAULT_BIND_TYPES: tuple[BindType, ...] = ("transmitter", "receiver", "transceiver")


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_id: str = Field(min_length=1, max_length=15)
    password: str | None = Field(
        default=None, max_length=8, description="null accepts any password"
    )
    api_key: str | None = Field(
        default=None,
        description="credential for the provider HTTP APIs (Infobip App key, Clickatell key, "
        "ClickSend API key with system_id as user name, smsmode accessToken, Sinch "
        "AuthenticationToken with system_id as UserName); null accepts any",
    )
    provider: str | None = Field(
        default=None,
        description="provider this account impersonates: its message-id shape on SMPP, and "
        "the only provider API it may call (null: any)",
    )
    bind_types: list[BindType] = Field(default_factory=lambda: list(_DEFAULT_BIND_TYPES))
    max_binds: int = Field(default=10, ge=1)
    window: int = Field(
        default=100,
        ge=1,
        description="outstanding requests allowed each way: submits awaiting our response "
        "(beyond it: ESME_RMSGQFUL), receipts awaiting the client's deliver_sm_resp",
    )
    max_submit_rate: float | None = Field(
        default=None, gt=0, description="messages per second across the account's binds"
    )
    message_id_format: IdFormat = "hex"
    mo_use_payload: bool = Field(
        default=False, description="send long MO whole in message_payload instead of UDH parts"
    )
    receipt_text_label: Literal["text", "Text"] = "text"
    default_validity: float = Field(
        default=48 * 3600.0, gt=0, description="seconds a receipt waits for a receiver to bind"
    )
    response_delay: float = Field(
        default=0.0, ge=0, description="seconds before each submit response (a slow SMSC)"
    )
