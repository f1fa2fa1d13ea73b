"""The scenario planner: matching, outcomes in provider terms, state, randomness, test numbers."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from simulator.catalog.registry import CatalogRegistry
from simulator.engine.numbers import OutcomeNumbers
from simulator.engine.plan import Plan, Submission
from simulator.smpp.codec.constants import CommandStatus


def sub(destination: str = "447700900001", **fields: Any) -> Submission:
    return Submission(
        account=fields.pop("account", "shop"),
        source=fields.pop("source", "SHOP"),
        destination=destination,
        **fields,
    )


def final(plan: Plan) -> tuple[str | None, str, str]:
    step = plan.steps[-1]
    return step.catalog_key, step.stat, step.err


def test_outcome_in_provider_terms_with_explicit_steps(make_planner: Any) -> None:
    planner = make_planner(
        {
            "provider": "infobip",
            "rules": [
                {
                    "when": {"destination": {"prefix": "4477009"}},
                    "then": {
                        "outcome": "EC_ABSENT_SUBSCRIBER",
                        "after": "10s",
                        "steps": [{"status": "PENDING_ENROUTE", "after": "1s"}],
                    },
                }
            ],
        }
    )
    plan = planner.plan(sub())
    assert [(s.delay, s.catalog_key, s.stat, s.final) for s in plan.steps] == [
        (1.0, "PENDING_ENROUTE", "ENROUTE", False),
        (10.0, "EC_ABSENT_SUBSCRIBER", "UNDELIV", True),
    ]
    assert plan.steps[-1].err == "027" and plan.rule == "rule 1"


def test_automatic_intermediate_is_the_providers_initial_status(make_planner: Any) -> None:
    planner = make_planner({"provider": "sinch", "default": {"outcome": "DELIVERED_SUCCESS"}})
    plan = planner.plan(sub())
    assert [s.catalog_key for s in plan.steps] == ["SENT_SUCCESS", "DELIVERED_SUCCESS"]
    assert plan.steps[0].stat == "ACCEPTD" and not plan.steps[0].final


@pytest.mark.parametrize(
    ("when", "hits", "misses"),
    [
        ({"destination": "447700900001"}, sub(), sub("447700900002")),
        ({"destination": "+447700900001"}, sub("447700900001"), sub("447700900002")),
        ({"destination": {"prefix": "4477"}}, sub("447712"), sub("4478")),
        ({"destination": "4477*1"}, sub("4477001"), sub("4477002")),
        ({"destination": {"regex": "^44(77|78)"}}, sub("4478000"), sub("4479000")),
        ({"destination": ["111", "222"]}, sub("222"), sub("333")),
        ({"destination": {"range": {"from": 100, "to": 200}}}, sub("150"), sub("201")),
        ({"sender": {"prefix": "SH"}}, sub(source="SHOP"), sub(source="BANK")),
        ({"text": "code"}, sub(text="your code is 1"), sub(text="hello")),
        ({"text": {"regex": "\\d{6}"}}, sub(text="OTP 123456"), sub(text="OTP 12")),
        ({"account": ["a", "b"]}, sub(account="b"), sub(account="c")),
        ({"data_coding": 8}, sub(data_coding=8), sub(data_coding=0)),
        ({"parts": {"min": 2}}, sub(part_count=3), sub(part_count=1)),
        ({"registered_delivery": [1, 17]}, sub(registered_delivery=17), sub(registered_delivery=0)),
    ],
)
def test_each_kind_of_condition(
    make_planner: Any, when: dict[str, Any], hits: Submission, misses: Submission
) -> None:
    planner = make_planner(
        {
            "provider": "infobip",
            "rules": [
                {"name": "special", "when": when, "then": {"outcome": "EC_ABSENT_SUBSCRIBER"}}
            ],
        }
    )
    assert planner.plan(hits).rule == "special"
    assert planner.plan(misses).rule is None


def test_text_is_decoded_only_when_a_rule_needs_it(make_planner: Any) -> None:
    calls: list[bytes] = []

    def decoder(body: bytes, coding: int) -> str:
        calls.append(body)
        return body.decode()

    planner = make_planner(
        {
            "provider": "infobip",
            "text_directives": False,
            "rules": [
                {"when": {"destination": "1"}, "then": {"outcome": "EC_ABSENT_SUBSCRIBER"}},
                {"when": {"text": "x"}, "then": {"outcome": "EC_ABSENT_SUBSCRIBER"}},
            ],
        }
    )
    planner.plan(sub("1", body=b"x", decoder=decoder))
    assert calls == []
    planner.plan(sub("2", body=b"x", decoder=decoder))
    assert calls == [b"x"]


def test_nth_attempt_and_first_match_wins(make_planner: Any) -> None:
    planner = make_planner(
        {
            "provider": "infobip",
            "rules": [
                {
                    "name": "third-succeeds",
                    "when": {"attempt": 3},
                    "then": {"outcome": "DELIVERED_TO_HANDSET"},
                },
                {
                    "name": "fail",
                    "when": {"destination": {"prefix": "44"}},
                    "then": {"outcome": "EC_ABSENT_SUBSCRIBER"},
                },
            ],
        }
    )
    keys = [final(planner.plan(sub("4400")))[0] for _ in range(4)]
    assert keys == [
        "EC_ABSENT_SUBSCRIBER",
        "EC_ABSENT_SUBSCRIBER",
        "DELIVERED_TO_HANDSET",
        "EC_ABSENT_SUBSCRIBER",
    ]


def test_stateful_outage_from_message_100_to_200(make_planner: Any) -> None:
    planner = make_planner(
        {
            "provider": "infobip",
            "states": {"initial": "up"},
            "rules": [
                {
                    "name": "start-outage",
                    "when": {"state": "up", "nth": 100},
                    "then": {"reject": {"smpp": "ESME_RSYSERR"}, "set_state": "down"},
                },
                {
                    "name": "outage",
                    "when": {"state": "down", "nth": {"max": 100}},
                    "then": {"reject": {"smpp": "ESME_RSYSERR"}},
                },
                {
                    "name": "recover",
                    "when": {"state": "down"},
                    "then": {"outcome": "DELIVERED_TO_HANDSET", "set_state": "up"},
                },
            ],
        }
    )
    refused = [n for n in range(1, 301) if not planner.plan(sub()).accepted]
    assert refused == list(range(100, 201))
    assert planner.state == "up"


def test_weighted_mix_shares_over_10000_messages(make_planner: Any) -> None:
    planner = make_planner(
        {
            "provider": "infobip",
            "default": {
                "mix": [
                    {"weight": 90, "outcome": "DELIVERED_TO_HANDSET"},
                    {"weight": 7, "outcome": "EC_ABSENT_SUBSCRIBER"},
                    {"weight": 3, "reject": {"smpp": "ESME_RTHROTTLED"}},
                ]
            },
        },
        seed=2024,
    )
    counts: Counter[str] = Counter()
    for _ in range(10_000):
        plan = planner.plan(sub())
        counts["reject" if not plan.accepted else str(final(plan)[0])] += 1
    assert abs(counts["DELIVERED_TO_HANDSET"] / 100 - 90) <= 2
    assert abs(counts["EC_ABSENT_SUBSCRIBER"] / 100 - 7) <= 2
    assert abs(counts["reject"] / 100 - 3) <= 2


def test_same_seed_same_plans_and_reset(make_planner: Any) -> None:
    doc = {
        "provider": "infobip",
        "default": {
            "mix": [
                {
                    "weight": 1,
                    "outcome": "DELIVERED_TO_HANDSET",
                    "after": {"exponential": {"mean": "5s"}},
                },
                {
                    "weight": 1,
                    "outcome": "EC_ABSENT_SUBSCRIBER",
                    "after": {"uniform": ["1s", "9s"]},
                },
            ]
        },
    }
    a, b, c = make_planner(doc, seed=7), make_planner(doc, seed=7), make_planner(doc, seed=8)
    run_a = [a.plan(sub()) for _ in range(200)]
    assert run_a == [b.plan(sub()) for _ in range(200)]
    assert run_a != [c.plan(sub()) for _ in range(200)]
    a.reset()
    assert run_a == [a.plan(sub()) for _ in range(200)]


@pytest.mark.parametrize(
    "delay",
    [
        {"uniform": ["1s", "3s"]},
        {"normal": {"mean": "2s", "stddev": "500ms"}},
        {"exponential": {"mean": "2s"}},
        {"lognormal": {"median": "2s", "sigma": 0.3}},
    ],
)
def test_delay_distributions_have_the_right_centre(
    make_planner: Any, delay: dict[str, Any]
) -> None:
    planner = make_planner(
        {"provider": "infobip", "default": {"outcome": "DELIVERED_TO_HANDSET", "after": delay}}
    )
    delays = sorted(planner.plan(sub()).steps[-1].delay for _ in range(4000))
    assert all(d >= 0 for d in delays)
    median = delays[len(delays) // 2]
    expected = 2.0 * (0.693 if "exponential" in delay else 1.0)  # exponential: mean 2 -> median
    assert abs(median - expected) < 0.15
    # the automatic intermediate step never comes after the final one
    assert all(
        p.steps[0].delay <= p.steps[-1].delay for p in (planner.plan(sub()) for _ in range(200))
    )


def test_text_directives(make_planner: Any) -> None:
    planner = make_planner({"provider": "infobip"})
    plan = planner.plan(sub(text="hi #dlrsim:outcome=EC_ABSENT_SUBSCRIBER #dlrsim:after=48h"))
    assert final(plan) == ("EC_ABSENT_SUBSCRIBER", "UNDELIV", "027")
    assert plan.steps[-1].delay == 48 * 3600
    other = planner.plan(sub(text="#dlrsim:provider=sinch #dlrsim:status=BLACKLISTED"))
    assert final(other) == ("BLACKLISTED", "REJECTD", "203")
    refused = planner.plan(sub(text="#dlrsim:reject=ESME_RTHROTTLED"))
    assert refused.reject_status == CommandStatus.ESME_RTHROTTLED
    unknown = planner.plan(sub(text="#dlrsim:outcome=NO_SUCH_THING"))
    assert unknown.reject_status == CommandStatus.ESME_RSUBMITFAIL
    assert "NO_SUCH_THING" in unknown.reason
    assert planner.plan(sub(text="#dlrsim:lost=true")).lost
    # ASCII sent as data_coding 0 reads '_' as GSM '§': directives still work.
    gsm_read = planner.plan(sub(text="#dlrsim:outcome=EC§ABSENT§SUBSCRIBER"))
    assert final(gsm_read) == ("EC_ABSENT_SUBSCRIBER", "UNDELIV", "027")


def test_every_outcome_number_produces_its_entry(
    make_planner: Any, registry: CatalogRegistry
) -> None:
    planner = make_planner({"provider": "clicksend"})
    numbers = OutcomeNumbers(registry)
    for provider in registry.providers():
        catalog = registry.get(provider)
        listed = numbers.numbers(catalog)
        assert len(listed) == len(registry.entries(provider, "sms"))
        for item in listed:
            plan = planner.plan(sub(item.number))
            assert final(plan) == (item.entry.key, item.entry.smpp.stat, item.entry.smpp.err)
            assert plan.steps[-1].final == item.entry.final
        for item in numbers.reject_numbers(catalog):
            assert planner.plan(sub(item.number)).reject_status == CommandStatus.ESME_RSUBMITFAIL


def test_numbers_outside_the_catalog_fall_through(make_planner: Any) -> None:
    planner = make_planner({"provider": "infobip"})
    assert planner.plan(sub("999039999")).rule is None  # position past the end
    assert planner.plan(sub("999980001")).rule is None  # unknown block
    assert (
        make_planner({"provider": "infobip", "outcome_numbers": False}).plan(sub("999030001")).rule
        is None
    )
