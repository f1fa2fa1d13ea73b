"""The control plane: the REST API under /api/v1 and the operations it shares with MQTT and
the pytest helpers (`actions`).

`ControlTarget` is what the control plane needs of a running `Simulator`, spelled out as a
protocol so that this layer never imports the composition root above it.
`register_control_api` adds the routes and one middleware that, for /api/v1 paths only,
checks access (bearer token; else loopback peers only unless remote access is allowed) and
turns every refusal, ours or the router's (404, 405, 413), into the one error body.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

from simulator.catalog.registry import CatalogRegistry
from simulator.config import Settings
from simulator.core.clock import Clock
from simulator.core.events import EventBus
from simulator.engine.runtime import ScenarioRuntime
from simulator.engine.timelines import Timelines
from simulator.http.server import HttpServer
from simulator.http.webhooks import WebhookEmitter
from simulator.providers.base import ProviderAdapter
from simulator.scenario.model import Scenario
from simulator.smpp.smsc import Smsc
from simulator.store.journal import Journal
from simulator.store.messages import MessageStore

from .api import ControlApi
from .models import ControlError
from .openapi import API_PREFIX, ApiRoute, control_routes

__all__ = [
    "API_PREFIX",
    "ApiRoute",
    "ControlApi",
    "ControlError",
    "ControlTarget",
    "ListenerLike",
    "add_api_routes",
    "control_api_of",
    "register_control_api",
]
log = logging.getLogger("dlrsim.control")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_API_KEY = web.AppKey("dlrsim_control_api", ControlApi)
_ROUTER_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


class ListenerLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...


class ControlTarget(Protocol):
    """The parts of a `Simulator` the control plane reads and drives."""

    @property
    def settings(self) -> Settings: ...
    @property
    def events(self) -> EventBus: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def store(self) -> MessageStore: ...
    @property
    def timelines(self) -> Timelines | None: ...
    @property
    def smsc(self) -> Smsc | None: ...
    @property
    def providers(self) -> Mapping[str, ProviderAdapter]: ...
    @property
    def webhooks(self) -> WebhookEmitter | None: ...
    @property
    def scenario(self) -> ScenarioRuntime | None: ...
    @property
    def registry(self) -> CatalogRegistry | None: ...
    @property
    def http(self) -> HttpServer | None: ...
    @property
    def listeners(self) -> Sequence[ListenerLike]: ...
    @property
    def clock(self) -> Clock: ...
    def replace_scenario(self, scenario: Scenario) -> None: ...


def control_api_of(app: web.Application) -> ControlApi | None:
    """The control API registered on `app`, if any."""
    return app.get(_API_KEY)


def error_response(error: ControlError) -> web.Response:
    response = web.json_response(error.body().model_dump(mode="json"), status=error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dlrsim"'
    return response


def _loopback(peer: str | None) -> bool:
    try:
        address = ipaddress.ip_address((peer or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _check_access(sim: ControlTarget, request: web.Request) -> None:
    token = sim.settings.api_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise ControlError(
                401, "unauthorized", "send Authorization: Bearer <token>", "header.Authorization"
            )
    elif not sim.settings.allow_remote_api and not _loopback(request.remote):
        raise ControlError(
            403,
            "forbidden",
            "without an API token only loopback peers may "
            "use the API (or start with remote API access allowed)",
            "peer",
        )


def _middleware(sim: ControlTarget, public: frozenset[str]) -> Middleware:
    @web.middleware
    async def control_api(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return await handler(request)
        try:
            if path not in public:
                _check_access(sim, request)
            return await handler(request)
        except ControlError as error:
            return error_response(error)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            code = _ROUTER_CODES.get(error.status, "http_error")
            where = "body" if error.status == 413 else "path"
            message = f"{error.reason}: {request.method} {path}"
            allowed = error.headers.get("Allow")
            if error.status == 404:
                message = f"no route {path} (see {API_PREFIX}/docs)"
            elif allowed:
                message = f"{path} does not take {request.method}; it takes {allowed}"
            response = error_response(ControlError(error.status, code, message, where))
            if allowed:
                response.headers["Allow"] = allowed
            return response
        except Exception:
            log.exception("control API: %s %s failed", request.method, path)
            return error_response(ControlError(500, "internal", "internal error (see the log)"))

    return control_api


def add_api_routes(app: web.Application, routes: Sequence[ApiRoute]) -> None:
    """Register more documented /api/v1 routes (they join the OpenAPI document)."""
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    api = app.get(_API_KEY)
    if api is not None:
        api.extra_routes.extend(routes)


def register_control_api(sim: ControlTarget) -> ControlApi | None:
    """Add the control API to the simulator's HTTP server (before it listens)."""
    if sim.http is None:
        return None
    app = sim.http.app
    api = ControlApi(sim)
    app[_API_KEY] = api
    routes = control_routes(api)
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    public = frozenset(route.path for route in routes if route.public)
    app.middlewares.append(_middleware(sim, public))

    async def wake_waiters(_: web.Application) -> None:
        for waiter in list(api.waiters):
            waiter.set()

    app.on_shutdown.append(wake_waiters)
    return api
