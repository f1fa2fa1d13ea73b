"""SMPP accounts: who may bind, how, and with what limits.

The embedded default accepts any system_id and password (a local stub should just work); a
configured account list is enforced strictly, with the SMPP status a real SMSC would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.core.ids import IdFormat
from simulator.smpp.codec.constants import CommandStatus

BindType = Literal["transmitter", "receiver", "transceiver"]
_DEFAULT_BIND_TYPES: tuple[BindType, ...] = ("transmitter", "receiver", "transceiver")


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_id: str = Field(min_length=1, max_length=15)
    password: str | None = Field(
        default=None, max_length=8, description="null accepts any password"
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


class AccountRegistry:
    """Looks accounts up at bind time; in accept-any mode it makes one per system_id."""

    def __init__(self, accounts: list[Account] | None = None, *, accept_any: bool = False):
        self.accept_any = accept_any
        self._accounts: dict[str, Account] = {}
        for account in accounts or []:
            self._accounts[account.system_id] = account

    def __iter__(self) -> Iterator[Account]:
        return iter(list(self._accounts.values()))

    def get(self, system_id: str) -> Account | None:
        return self._accounts.get(system_id)

    def add(self, account: Account) -> None:
        self._accounts[account.system_id] = account

    def authenticate(self, system_id: str, password: str, bind_type: str) -> Account | int:
        """The account to bind as, or the command_status that refuses the bind."""
        account = self._accounts.get(system_id)
        if account is None:
            if not self.accept_any:
                return CommandStatus.ESME_RINVSYSID
            if not system_id:
                return CommandStatus.ESME_RINVSYSID
            account = Account(system_id=system_id)
            self._accounts[system_id] = account
        if account.password is not None and account.password != password:
            return CommandStatus.ESME_RINVPASWD
        if bind_type not in account.bind_types:
            return CommandStatus.ESME_RBINDFAIL
        return account
