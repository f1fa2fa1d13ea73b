"""SMPP accounts: who may bind, how, and with what limits.

The embedded default accepts any system_id and password (a local stub should just work); a
configured account list is enforced strictly, with the SMPP status a real SMSC would give.
"""

from __future__ import annotations

from collections.abc import Iterator

from simulator.core.accounts import Account
from simulator.smpp.codec.constants import CommandStatus


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
