"""Getting deliver_sm PDUs (receipts and MO) to an account's receivers, and never losing one.

Each account has one `DeliveryQueue`. It holds what waits for a receiver, hands it to bound
receiver/transceiver sessions round robin while each has room in its window, and takes back
whatever comes back unanswered (timeout, closed session, ESME_RX_T_APPN, ESME_RMSGQFUL,
ESME_RTHROTTLED) to try again later. A delivery leaves the queue only when the client accepted
it, refused it permanently (ESME_RX_P_APPN / ESME_RX_R_APPN, reported), ran out of attempts
(reported), or outlived the message's validity (reported): nothing disappears silently.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.core.clock import Clock
from simulator.smpp.codec.constants import CommandStatus as S
from simulator.smpp.codec.pdu import Pdu
from simulator.smpp.session import SmscSession

log = logging.getLogger("dlrsim.smpp")

_RETRY_LATER = frozenset({S.ESME_RX_T_APPN, S.ESME_RMSGQFUL, S.ESME_RTHROTTLED})


@dataclass(slots=True)
class Delivery:
    """One deliver_sm (or data_sm) waiting to reach the client."""

    pdu: Pdu
    kind: str  # "receipt" | "mo"
    message_id: str | None
    expires_at: float  # simulated clock seconds
    attempts: int = 0
    meta: dict[str, object] = field(default_factory=dict)


DeliveryOutcome = Callable[[Delivery, str, int | None], None]


class DeliveryQueue:
    def __init__(
        self,
        account: str,
        window: int,
        clock: Clock,
        net_clock: Clock,
        on_outcome: DeliveryOutcome,
        *,
        max_attempts: int = 10,
        retry_delay: float = 1.0,
    ) -> None:
        self.account = account
        self.window = window
        self.clock = clock
        self.net_clock = net_clock
        self.on_outcome = on_outcome
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.sessions: list[SmscSession] = []
        self.waiting: deque[Delivery] = deque()
        self.in_flight = 0
        self.retrying: list[Delivery] = []
        self._next_session = 0
        self._retry_timer_armed = False

    def __len__(self) -> int:
        return len(self.waiting) + len(self.retrying) + self.in_flight

    def add_session(self, session: SmscSession) -> None:
        self.sessions.append(session)
        self.pump()

    def remove_session(self, session: SmscSession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)

    def put(self, delivery: Delivery) -> None:
        self.waiting.append(delivery)
        if self.sessions:
            self.pump()

    def pump(self) -> None:
        """Send what waits to sessions with room, round robin; stop when all are full."""
        waiting = self.waiting
        sessions = self.sessions
        if not sessions:
            return
        now = self.clock.now()
        full_in_a_row = 0
        while waiting and full_in_a_row < len(sessions):
            index = self._next_session % len(sessions)
            self._next_session = index + 1
            session = sessions[index]
            if not session.can_receive or session.outstanding >= self.window:
                full_in_a_row += 1
                continue
            full_in_a_row = 0
            delivery = waiting.popleft()
            if delivery.expires_at <= now:
                self.on_outcome(delivery, "expired", None)
                continue
            delivery.attempts += 1
            self.in_flight += 1
            session.send_request(delivery.pdu, self._answer_handler(delivery))

    def _answer_handler(self, delivery: Delivery) -> Callable[[Pdu | None], None]:
        def on_answer(response: Pdu | None) -> None:
            self.in_flight -= 1
            if response is not None and response.command_status == S.ESME_ROK:
                self.on_outcome(delivery, "delivered", 0)
            elif response is not None and response.command_status not in _RETRY_LATER:
                self.on_outcome(delivery, "refused", response.command_status)
            elif delivery.attempts >= self.max_attempts:
                status = None if response is None else response.command_status
                self.on_outcome(delivery, "gave_up", status)
            else:
                reason = "no answer" if response is None else f"0x{response.command_status:X}"
                log.debug("redelivering %s to %s (%s)", delivery.kind, self.account, reason)
                self.retrying.append(delivery)
                self._arm_retry()
            self.pump()

        return on_answer

    def _arm_retry(self) -> None:
        # Retries wait a moment (a client that said "not now" should not be hammered), and
        # one timer serves the whole queue.
        if self._retry_timer_armed:
            return
        self._retry_timer_armed = True

        def fire() -> None:
            self._retry_timer_armed = False
            self.waiting.extend(self.retrying)
            self.retrying.clear()
            self.pump()

        self.net_clock.call_later(self.retry_delay, fire)

    def drain_expired(self) -> None:
        now = self.clock.now()
        keep: deque[Delivery] = deque()
        for delivery in self.waiting:
            if delivery.expires_at <= now:
                self.on_outcome(delivery, "expired", None)
            else:
                keep.append(delivery)
        self.waiting = keep
