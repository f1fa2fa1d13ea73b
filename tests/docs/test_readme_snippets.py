"""The README's code blocks run: the smpplib example against a live simulator, and every YAML
scenario example in the README and scenarios/README.md through the validator."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.app import SMPP_COMMANDS, SMPP_STATUSES, Simulator
from simulator.catalog.registry import load_registry
from simulator.config import Settings
from simulator.scenario.loader import load_scenario_text

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(path: Path, language: str) -> list[str]:
    return [
        body for lang, body in BLOCK.findall(path.read_text(encoding="utf-8")) if lang == language
    ]


@pytest.fixture
def running_simulator() -> Iterator[tuple[str, int]]:
    ready = threading.Event()
    stop: dict[str, object] = {}

    def serve() -> None:
        async def main() -> None:
            sim = Simulator(Settings(smpp_port=0, enroute_after=0.0, delivered_after=0.05))
            await sim.start()
            stop["address"] = sim.smpp_address
            stop["loop"] = asyncio.get_running_loop()
            done = asyncio.Event()
            stop["done"] = done
            ready.set()
            await done.wait()
            await sim.stop(0.5)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield stop["address"]  # type: ignore[misc]
    finally:
        loop = stop["loop"]
        loop.call_soon_threadsafe(stop["done"].set)  # type: ignore[attr-defined, union-attr]
        thread.join(10)


def test_readme_smpplib_example_gets_a_receipt(
    running_simulator: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    (example,) = [b for b in blocks(ROOT / "README.md", "python") if "smpplib" in b]
    host, port = running_simulator
    code = example.replace('"127.0.0.1", 2775', f'"{host}", {port}')
    assert code != example, "the README example no longer names 127.0.0.1:2775"
    code += "\nclient.unbind()\nclient.disconnect()\n"
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert re.search(r"receipt: b'id:\w+ sub:001 dlvrd:001 .*stat:DELIVRD err:000", out), out


@pytest.mark.parametrize("document", ["README.md", "scenarios/README.md", "docs/smsc.md"])
def test_yaml_scenario_examples_validate(document: str) -> None:
    registry = load_registry()
    examples = [b for b in blocks(ROOT / document, "yaml") if re.search(r"^name:", b, re.M)]
    if document != "docs/smsc.md":
        assert examples, f"{document} has no complete scenario example"
    for number, example in enumerate(examples, 1):
        load_scenario_text(
            example,
            f"{document} example {number}",
            registry,
            known_smpp_statuses=SMPP_STATUSES,
            known_commands=SMPP_COMMANDS,
        )


def test_smsc_doc_config_example_is_valid(tmp_path: Path) -> None:
    from simulator.config import build_settings

    (config,) = [b for b in blocks(ROOT / "docs/smsc.md", "yaml") if "accounts:" in b]
    path = tmp_path / "dlrsim.yaml"
    path.write_text(config, encoding="utf-8")
    settings = build_settings({"config": str(path)}, environ={})
    assert settings.accounts[0].system_id == "shop" and settings.seed == 42


def test_readme_pytest_example_is_the_example_suites_test() -> None:
    """The README's pytest example is examples/otp_smpp/test_otp.py's test, word for word."""
    (example,) = [b for b in blocks(ROOT / "README.md", "python") if "def test_" in b]
    source = (ROOT / "examples/otp_smpp/test_otp.py").read_text(encoding="utf-8")
    body = example.split("\n\n\n", 1)[1].strip()
    assert body.replace("(dlrsim)", "(dlrsim: Controller) -> None") in source
    assert len(example.strip().splitlines()) < 15
