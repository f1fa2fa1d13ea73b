"""The Python example in docs/mqtt.md runs against a real broker and a running simulator."""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from simulator.app import Simulator

from .conftest import Broker

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"
SETTINGS_LINE = 'BROKER, PORT, PREFIX = "127.0.0.1", 1883, "dlrsim/local"'


async def test_docs_example_injects_an_mo_and_reads_the_reply(
    broker: Broker,
    make_sim: Callable[..., Awaitable[Simulator]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    sim = await make_sim(mqtt_url=broker.url)
    assert sim.mqtt is not None
    code = example.replace(
        SETTINGS_LINE, f'BROKER, PORT, PREFIX = "127.0.0.1", {broker.port}, "{sim.mqtt.prefix}"'
    )
    assert code != example, "the example no longer names its broker on one line"

    await asyncio.wait_for(asyncio.to_thread(exec, compile(code, str(DOC), "exec"), {}), 10)

    printed = capsys.readouterr().out.splitlines()
    replies = [line for line in printed if line.startswith("my-app/replies ")]
    assert len(replies) == 1, printed
    reply = ast.literal_eval(replies[0].split(" ", 1)[1])  # the example prints a dict
    assert reply["ok"] is True and reply["account"] == "shop" and reply["parts"] == 1
    assert sim.journal.count("mo") == 1
