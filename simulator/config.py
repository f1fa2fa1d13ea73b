"""Settings: one typed model, filled from defaults < config file < environment < flags.

Every flag has a `DLRSIM_*` twin (`--smpp` is `DLRSIM_SMPP`, `--time-scale` is
`DLRSIM_TIME_SCALE`), so a container or CI job can configure dlrsim without a command line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulator.core.accounts import Account
from simulator.core.errors import ConfigError

DEFAULT_SMPP_PORT = 2775
DEFAULT_HTTP_PORT = 8775
_CALLBACK_ENV = re.compile(r"^DLRSIM_([A-Z]+)_CALLBACK_URL$")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    smpp_host: str = "127.0.0.1"
    smpp_port: int = Field(default=DEFAULT_SMPP_PORT, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="provider APIs and control API; null: off (the CLI defaults to 8775)",
    )
    https_host: str | None = None
    https_port: int | None = Field(default=None, ge=0, le=65535)
    callback_urls: dict[str, str] = Field(
        default_factory=dict,
        description="provider -> URL for delivery callbacks the request cannot name "
        "(Clickatell, Sinch and ClickSend set theirs in a portal)",
    )
    smpp_tls_host: str | None = None
    smpp_tls_port: int | None = Field(default=None, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    accounts: list[Account] = Field(default_factory=list)
    accept_any: bool | None = Field(
        default=None, description="accept any credentials; default: only when no accounts"
    )
    seed: int | None = None
    scenario: Path | None = Field(
        default=None, description="scenario file; none gives the plain ENROUTE/DELIVRD timeline"
    )
    watch: bool = Field(default=False, description="reload the scenario file when it changes")
    time_scale: float = Field(default=1.0, gt=0)
    enroute_after: float = Field(default=0.5, ge=0)
    delivered_after: float = Field(default=2.0, ge=0)
    enquire_link_interval: float = Field(default=30.0, gt=0)
    idle_timeout: float = Field(default=300.0, gt=0)
    response_timeout: float = Field(default=10.0, gt=0)
    max_command_length: int = Field(default=64 * 1024, ge=64, le=16 * 1024 * 1024)
    system_id: str = Field(default="dlrsim", max_length=15)
    journal_size: int = Field(
        default=100_000, ge=0, description="events kept in memory; 0 turns the journal off"
    )
    log_format: Literal["text", "json"] = "text"
    quiet: bool = False
    api_token: str | None = Field(
        default=None,
        min_length=1,
        description="bearer token the control API (/api/v1) requires; null: none, and then "
        "only loopback peers may call it unless allow_remote_api is set",
    )
    allow_remote_api: bool = Field(
        default=False, description="without an API token, let non-loopback peers use the API"
    )
    mqtt_url: str | None = Field(
        default=None, description="MQTT broker for the event bus, mqtt://[USER:PASS@]HOST[:PORT]"
    )
    instance: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="name in the MQTT topics dlrsim/<instance>/...; default: 'local' on the "
        "default SMPP port, else 'local-<smpp port>'",
    )
    mqtt_buffer: int = Field(
        default=10_000, ge=1, description="events kept for the broker while it is unreachable"
    )

    store: str = Field(
        default="memory",
        description="where the journal and messages live: 'memory', or 'sqlite:PATH' to keep "
        "them (and pending receipts) across restarts",
    )

    @field_validator("store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if value != "memory" and not (value.startswith("sqlite:") and value[7:].strip()):
            raise ValueError("expected 'memory' or 'sqlite:PATH'")
        return value

    @property
    def store_path(self) -> Path | None:
        """The SQLite file of `--store sqlite:PATH`, or None for the in-memory store."""
        return Path(self.store[7:].strip()).expanduser() if self.store != "memory" else None

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mqtt_url(value)
        return value

    @property
    def accepts_any(self) -> bool:
        return self.accept_any if self.accept_any is not None else not self.accounts


#: Flag/env names (without the DLRSIM_ prefix) and how each maps onto Settings fields.
ENV_KEYS: dict[str, str] = {
    "SMPP": "smpp",
    "HTTP": "http",
    "HTTPS": "https",
    "SMPP_TLS": "smpp_tls",
    "TLS_CERT": "tls_cert",
    "TLS_KEY": "tls_key",
    "CONFIG": "config",
    "SEED": "seed",
    "TIME_SCALE": "time_scale",
    "QUIET": "quiet",
    "LOG_FORMAT": "log_format",
    "ACCEPT_ANY": "accept_any",
    "SCENARIO": "scenario",
    "JOURNAL_SIZE": "journal_size",
    "WATCH": "watch",
    "ENROUTE_AFTER": "enroute_after",
    "DELIVERED_AFTER": "delivered_after",
    "API_TOKEN": "api_token",
    "ALLOW_REMOTE_API": "allow_remote_api",
    "MQTT": "mqtt",
    "INSTANCE": "instance",
    "MQTT_BUFFER": "mqtt_buffer",
    "STORE": "store",
}


class MqttAddress(NamedTuple):
    host: str
    port: int
    username: str | None = None
    password: str | None = None


def parse_mqtt_url(text: str) -> MqttAddress:
    """`mqtt://[USER[:PASS]@]HOST[:PORT]` (port 1883 by default) to its parts."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port or 1883
    except ValueError as error:
        raise ValueError(f"MQTT URL {text!r}: {error}") from None
    if parts.scheme != "mqtt" or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"MQTT URL {text!r}: expected mqtt://HOST[:PORT]")
    return MqttAddress(
        parts.hostname,
        port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def default_instance(smpp_port: int) -> str:
    """The MQTT instance name when none is set: distinct for each SMPP port on one host."""
    return "local" if smpp_port == DEFAULT_SMPP_PORT else f"local-{smpp_port}"


def parse_address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """`HOST:PORT`, `:PORT`, `PORT` or `[v6]:PORT` to (host, port); port 0 = pick a free one."""
    value = text.strip()
    host, port_text = default_host, value
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or not value[end + 1 :].startswith(":"):
            raise ConfigError(f"address {text!r}: expected [IPv6]:PORT")
        host, port_text = value[1:end], value[end + 2 :]
    elif ":" in value:
        host_part, _, port_text = value.rpartition(":")
        host = host_part or default_host
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"address {text!r}: expected HOST:PORT with a port from 0 to 65535")
    return host, int(port_text)


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    return data


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def build_settings(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, the config file, DLRSIM_* variables and flags (in rising precedence).

    `flags` uses the CLI's names (`smpp`, `config`, `seed`, ...); None means "not given".
    """
    env = os.environ if environ is None else environ
    from_env: dict[str, Any] = {
        name: env[f"DLRSIM_{key}"] for key, name in ENV_KEYS.items() if f"DLRSIM_{key}" in env
    }
    given = {key: value for key, value in flags.items() if value is not None}
    for name, url in env.items():
        match = _CALLBACK_ENV.match(name)
        if match and url:
            from_env.setdefault("callback_url", []).append(f"{match.group(1).lower()}={url}")
    config_path = given.get("config") or from_env.get("config")
    merged: dict[str, Any] = {}
    source = "defaults"
    if config_path:
        merged.update(load_config_file(Path(config_path)))
        source = str(config_path)
    for layer, layer_name in ((from_env, "environment"), (given, "command line")):
        for key, value in layer.items():
            if key == "config":
                continue
            try:
                _apply(merged, key, value)
            except ConfigError as error:
                raise ConfigError(f"{layer_name}: {error}") from error
    try:
        return Settings.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{source}: {where}: {first['msg']} (found {first.get('input')!r})"
        ) from error


def _apply(merged: dict[str, Any], key: str, value: Any) -> None:
    if key == "http" and str(value).strip().lower() in ("off", "none", ""):
        merged["http_port"] = None
    elif key == "mqtt":
        text = str(value).strip()
        if text.lower() in ("off", "none", ""):
            merged["mqtt_url"] = None
        else:
            try:
                parse_mqtt_url(text)
            except ValueError as error:
                raise ConfigError(str(error)) from None
            merged["mqtt_url"] = text
    elif key == "mqtt_buffer":
        try:
            merged[key] = int(value)
        except ValueError as error:
            raise ConfigError(f"MQTT buffer {value!r} is not an integer") from error
    elif key == "callback_url":
        for item in value if isinstance(value, list) else [value]:
            provider, sep, url = str(item).partition("=")
            if not sep or not provider or not url.startswith(("http://", "https://")):
                raise ConfigError(
                    f"callback URL {item!r}: expected PROVIDER=http(s)://HOST[:PORT]/PATH"
                )
            merged.setdefault("callback_urls", {})[provider.strip().lower()] = url
    elif key in ("smpp", "smpp_tls", "http", "https"):
        host, port = parse_address(str(value))
        merged[f"{key}_host"] = host
        merged[f"{key}_port"] = port
    elif key in ("quiet", "accept_any", "watch", "allow_remote_api"):
        merged[key] = value if isinstance(value, bool) else _truthy(str(value))
    elif key == "seed":
        try:
            merged["seed"] = int(value)
        except ValueError as error:
            raise ConfigError(f"seed {value!r} is not an integer") from error
    elif key == "journal_size":
        try:
            merged[key] = int(value)
        except ValueError as error:
            raise ConfigError(f"journal size {value!r} is not a whole number") from error
    elif key in ("time_scale", "enroute_after", "delivered_after"):
        try:
            merged[key] = float(value)
        except ValueError as error:
            raise ConfigError(f"{key.replace('_', ' ')} {value!r} is not a number") from error
    else:
        merged[key] = value
