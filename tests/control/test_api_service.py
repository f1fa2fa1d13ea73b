"""Health, version, access control, the one error body, and the OpenAPI document vs the router."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from simulator import __version__
from simulator.config import build_settings
from simulator.control import API_PREFIX, _check_access, _loopback
from simulator.providers import PROVIDERS

from .conftest import ApiSim

METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}


def test_health_lists_the_listeners(api_sim: ApiSim) -> None:
    reply = api_sim.get("/health")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json
    assert body["status"] == "ok"
    urls = {item["name"]: item["url"] for item in body["listeners"]}
    host, port = api_sim.sim.smpp_address
    assert urls["smpp"] == f"smpp://{host}:{port}"
    assert urls["http"] == api_sim.url


def test_version_names_build_and_providers(api_sim: ApiSim) -> None:
    reply = api_sim.get("/version")
    assert reply.status == 200
    assert reply.json == {
        "name": "dlrsim",
        "version": __version__,
        "api": "v1",
        "providers": sorted(PROVIDERS),
    }


def test_unknown_route_and_wrong_method_use_the_error_body(api_sim: ApiSim) -> None:
    missing = api_sim.get("/no/such/route")
    assert missing.status == 404
    assert missing.error["code"] == "not_found"
    assert missing.error["where"] == "path"
    wrong = api_sim.delete("/health")
    assert wrong.status == 405
    assert wrong.error["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    # the provider APIs outside /api/v1 keep their own answers
    outside = api_sim.get("/no/such/route", api=False)
    assert outside.status == 404
    assert not outside.body.startswith(b'{"error"')


def test_body_too_large_is_an_error_body(api_sim: ApiSim) -> None:
    reply = api_sim.call("PUT", "/scenario", data=b"#" * (1024 * 1024 + 10))
    assert reply.status == 413
    assert reply.error["code"] == "body_too_large"
    assert reply.error["where"] == "body"


def test_invalid_json_body_names_the_body(api_sim: ApiSim) -> None:
    reply = api_sim.call("POST", "/clock/advance", data=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.error["code"] == "invalid_json"
    assert reply.error["where"] == "body"
    empty = api_sim.call("POST", "/clock/advance")
    assert empty.status == 400
    assert empty.error == {"code": "invalid_body", "message": "expected a JSON body",
                           "where": "body", "problems": None}


# -- access ----------------------------------------------------------------------------------


def test_token_is_required_everywhere_but_health(make_api_sim: Callable[..., ApiSim]) -> None:
    api = make_api_sim(api_token="s3cret")
    assert api.get("/health").status == 200
    for path in ("/version", "/messages", "/openapi.json", "/docs", "/no/such/route"):
        reply = api.get(path)
        assert reply.status == 401, path
        assert reply.error["code"] == "unauthorized"
        assert reply.error["where"] == "header.Authorization"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = api.get("/version", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    basic = api.get("/version", headers={"Authorization": "Basic czNjcmV0"})
    assert basic.status == 401
    assert api.post("/reset").status == 401
    api.token = "s3cret"
    assert api.get("/version").status == 200
    assert api.post("/reset").status == 200


def _request_from(peer: str) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 40000) if name == "peername" else default
    )
    return make_mocked_request("GET", f"{API_PREFIX}/version", transport=transport)


@pytest.mark.parametrize(
    ("peer", "loopback"),
    [("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("10.0.0.7", False), ("203.0.113.9", False), ("2001:db8::1", False), ("", False)],
)
def test_loopback_peers(peer: str, loopback: bool) -> None:
    assert _loopback(peer) is loopback


def test_remote_peers_are_refused_without_token(make_api_sim: Callable[..., ApiSim]) -> None:
    from simulator.control import ControlError

    local = make_api_sim(scenario=None)
    with pytest.raises(ControlError) as refused:
        _check_access(local.sim, _request_from("203.0.113.9"))
    assert (refused.value.status, refused.value.code, refused.value.where) == (
        403, "forbidden", "peer")
    _check_access(local.sim, _request_from("127.0.0.1"))
    remote = make_api_sim(scenario=None, allow_remote_api=True)
    _check_access(remote.sim, _request_from("203.0.113.9"))
    token = make_api_sim(scenario=None, api_token="t")
    with pytest.raises(ControlError) as no_token:
        _check_access(token.sim, _request_from("203.0.113.9"))
    assert no_token.value.status == 401


def _own_address() -> str | None:
    """This machine's non-loopback IPv4 address (a UDP connect sends nothing), if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if ipaddress.ip_address(address).is_loopback else address


def test_remote_peer_over_a_real_socket(make_api_sim: Callable[..., ApiSim]) -> None:
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to call from")
    closed = make_api_sim(scenario=None, http_host=address)
    refused = closed.get("/version")
    assert refused.status == 403
    assert (refused.error["code"], refused.error["where"]) == ("forbidden", "peer")
    assert closed.get("/health").status == 200
    opened = make_api_sim(scenario=None, http_host=address, allow_remote_api=True)
    assert opened.get("/version").status == 200
    guarded = make_api_sim(scenario=None, http_host=address, api_token="t")
    guarded.token = "t"
    assert guarded.get("/version").status == 200


def test_settings_take_token_and_remote_flag_from_env_and_flags() -> None:
    env = {"DLRSIM_API_TOKEN": "from-env", "DLRSIM_ALLOW_REMOTE_API": "yes"}
    settings = build_settings({}, env)
    assert settings.api_token == "from-env"
    assert settings.allow_remote_api is True
    flagged = build_settings({"api_token": "from-flag", "allow_remote_api": None}, env)
    assert flagged.api_token == "from-flag"
    assert build_settings({}, {}).api_token is None
    assert build_settings({}, {}).allow_remote_api is False


def test_cli_has_the_api_flags() -> None:
    from simulator.cli import build_parser

    args = build_parser().parse_args(["serve", "--api-token", "abc", "--allow-remote-api"])
    assert args.api_token == "abc"
    assert args.allow_remote_api is True


# -- the document ----------------------------------------------------------------------------


def _router_routes(api_sim: ApiSim) -> set[tuple[str, str]]:
    assert api_sim.sim.http is not None
    found = set()
    for route in api_sim.sim.http.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith(API_PREFIX + "/") and route.method in METHODS:
            found.add((route.method, path))
    return found


def test_openapi_document_matches_the_router(api_sim: ApiSim) -> None:
    reply = api_sim.get("/openapi.json")
    assert reply.status == 200
    document: dict[str, Any] = reply.json
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == __version__
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == _router_routes(api_sim)
    assert len(documented) >= 25


def test_openapi_operations_are_complete(api_sim: ApiSim) -> None:
    document = api_sim.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    ids = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            ids.add(operation["operationId"])
            names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert names == set(path.replace("}", "{").split("{")[1::2]), (method, path)
            for code, answer in operation["responses"].items():
                for content in answer.get("content", {}).values():
                    ref = content["schema"].get("$ref")
                    if ref is not None:
                        assert ref.rsplit("/", 1)[-1] in schemas, (method, path, code)
            if path != f"{API_PREFIX}/health":
                assert "401" in operation["responses"], (method, path)
                assert operation["security"] == [{"bearer": []}]
            else:
                assert operation["security"] == []
    assert len(ids) == sum(len(ops) for ops in document["paths"].values())
    messages = document["paths"][f"{API_PREFIX}/messages"]["get"]
    query = {p["name"] for p in messages["parameters"]}
    assert query == {"account", "provider", "transport", "destination", "stat", "final",
                     "since", "limit"}
    error = schemas["ErrorDetail"]
    assert {"code", "message", "where"} <= set(error["required"])


def test_docs_page_is_plain_html_listing_every_route(api_sim: ApiSim) -> None:
    reply = api_sim.get("/docs")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.body.decode()
    assert "<script" not in page and "<link" not in page and "src=" not in page
    for method, path in _router_routes(api_sim):
        assert f"{method}</span> <code>{path}</code>" in page, (method, path)


def test_other_parts_can_add_documented_routes() -> None:
    from simulator.app import Simulator
    from simulator.config import Settings
    from simulator.control import ApiRoute, add_api_routes, register_control_api
    from simulator.http.server import HttpServer

    async def extra(request: web.Request) -> web.Response:
        return web.json_response({})

    sim = Simulator(Settings(smpp_port=0))
    sim.http = HttpServer()
    api = register_control_api(sim)
    assert api is not None
    add_api_routes(sim.http.app, [ApiRoute("GET", f"{API_PREFIX}/extra", extra, "extra", "x")])
    document = api.document()
    assert document["paths"][f"{API_PREFIX}/extra"]["get"]["summary"] == "extra"
    registered = {r.resource.canonical for r in sim.http.app.router.routes() if r.resource}
    assert f"{API_PREFIX}/extra" in registered
