"""Codec errors carry the SMPP command_status a server should answer with."""

from __future__ import annotations

from simulator.core.errors import SimulatorError
from simulator.smpp.codec.constants import CommandStatus


class CodecError(SimulatorError):
    """A PDU or field that cannot be decoded or encoded.

    `status` is the command_status to put in the response (or generic_nack) so the peer learns
    what was wrong; `fatal` marks errors after which the byte stream cannot be resynchronised.
    """

    def __init__(
        self,
        message: str,
        status: int = CommandStatus.ESME_RSYSERR,
        *,
        fatal: bool = False,
        command_id: int | None = None,
        sequence_number: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = int(status)
        self.fatal = fatal
        self.command_id = command_id
        self.sequence_number = sequence_number
