"""`--mqtt`, `--instance` and the buffer size: parsing, environment twins, precedence."""

from __future__ import annotations

import re

import pytest

from simulator.config import MqttAddress, build_settings, default_instance, parse_mqtt_url
from simulator.core.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1884", MqttAddress("127.0.0.1", 1884)),
        ("mqtt://broker", MqttAddress("broker", 1883)),
        ("mqtt://[::1]:1885/", MqttAddress("::1", 1885)),
        ("mqtt://ci:s%40cret@broker:1883", MqttAddress("broker", 1883, "ci", "s@cret")),
    ],
)
def test_urls_that_parse(url: str, expected: MqttAddress) -> None:
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize(
    "url", ["broker:1883", "mqtts://broker", "mqtt://", "mqtt://broker:99999", "mqtt://b/x"]
)
def test_urls_that_do_not(url: str) -> None:
    with pytest.raises(ValueError, match="MQTT URL"):
        parse_mqtt_url(url)


def test_environment_twins_and_flag_precedence() -> None:
    env = {
        "DLRSIM_MQTT": "mqtt://env-broker",
        "DLRSIM_INSTANCE": "from-env",
        "DLRSIM_MQTT_BUFFER": "250",
    }
    settings = build_settings({}, env)
    assert (settings.mqtt_url, settings.instance, settings.mqtt_buffer) == (
        "mqtt://env-broker",
        "from-env",
        250,
    )
    flags = {"mqtt": "mqtt://flag-broker:1999", "instance": "from-flag"}
    settings = build_settings(flags, env)
    assert (settings.mqtt_url, settings.instance) == ("mqtt://flag-broker:1999", "from-flag")
    assert build_settings({"mqtt": "off"}, env).mqtt_url is None
    assert build_settings({}, {}).mqtt_url is None


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"mqtt": "tcp://broker"}, {}, "command line: MQTT URL 'tcp://broker'"),
        ({}, {"DLRSIM_MQTT_BUFFER": "lots"}, "environment: MQTT buffer 'lots'"),
        ({"instance": "a/b"}, {}, "instance: String should match pattern"),
        ({}, {"DLRSIM_MQTT_BUFFER": "0"}, "mqtt_buffer: Input should be greater than or equal"),
    ],
)
def test_bad_values_name_what_is_wrong(
    flags: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_settings(flags, env)


def test_default_instance_tells_ports_apart() -> None:
    assert default_instance(2775) == "local"
    assert default_instance(2776) == "local-2776"
