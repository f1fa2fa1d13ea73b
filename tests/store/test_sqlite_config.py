"""`--store`: the setting, its flag and environment twin, and the checks on the file itself."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from simulator.cli import build_parser
from simulator.config import Settings, build_settings
from simulator.core.errors import ConfigError
from simulator.store.sqlite import SqliteStore


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def test_a_missing_folder_or_a_newer_schema_is_refused_by_name(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    with pytest.raises(ConfigError, match="does not exist") as caught:
        SqliteStore(missing)
    assert str(missing) in str(caught.value)
    newer = tmp_path / "newer.db"
    SqliteStore(newer).close()
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("PRAGMA user_version=99")
    with pytest.raises(ConfigError, match="newer dlrsim") as caught:
        SqliteStore(newer)
    assert str(newer) in str(caught.value)


def test_a_file_written_before_a_field_was_added_gains_its_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("ALTER TABLE messages DROP COLUMN rule")
    SqliteStore(path).close()
    assert ("rule",) in [(row[1],) for row in rows(path, "PRAGMA table_info(messages)")]


def test_store_setting_from_flag_environment_and_config(tmp_path: Path) -> None:
    assert Settings().store == "memory" and Settings().store_path is None
    flag = build_settings({"store": "sqlite:/data/dlrsim.db"}, environ={})
    assert flag.store_path == Path("/data/dlrsim.db")
    env = build_settings({}, environ={"DLRSIM_STORE": "sqlite:run.db"})
    assert env.store_path == Path("run.db")
    config = tmp_path / "dlrsim.yaml"
    config.write_text("store: sqlite:~/state.db\n")
    assert (
        build_settings({"config": str(config)}, environ={}).store_path
        == Path("~/state.db").expanduser()
    )
    assert (
        build_settings({"store": "memory"}, environ={"DLRSIM_STORE": "sqlite:x"}).store_path is None
    )


@pytest.mark.parametrize("value", ["postgres://db/dlrsim", "sqlite:", "sqlite:  ", "disk"])
def test_a_bad_store_setting_says_what_is_expected(value: str) -> None:
    with pytest.raises(ConfigError, match=r"store: .*expected 'memory' or 'sqlite:PATH'"):
        build_settings({"store": value}, environ={})


def test_the_serve_command_takes_store(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--store", "sqlite:/tmp/x.db"])
    assert args.store == "sqlite:/tmp/x.db"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    assert "DLRSIM_STORE" in capsys.readouterr().out


DOC = Path(__file__).resolve().parents[2] / "docs" / "persistence.md"


def test_the_documented_config_and_refusal_are_what_dlrsim_does(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    (yaml_block,) = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    config = tmp_path / "dlrsim.yaml"
    config.write_text(yaml_block, encoding="utf-8")
    settings = build_settings({"config": str(config)}, environ={})
    assert settings.store_path == Path("/var/lib/dlrsim/state.db")
    documented = next(line for line in text.splitlines() if line.startswith("dlrsim: store"))
    foreign = tmp_path / "app.sqlite"
    with closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        conn.commit()
    with pytest.raises(ConfigError) as caught:
        SqliteStore(foreign)
    assert f"dlrsim: {caught.value}".replace(str(foreign), "/tmp/app.sqlite") == documented
