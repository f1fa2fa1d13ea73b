"""The OpenAPI 3.1 document of the control API, built from the route table and the models.

Strategy: every /api/v1 route is registered from an `ApiRoute` (method, path, handler, and the
pydantic models of its query, body and answer), and the document is generated from that same
table, so a route cannot exist undocumented and a documented field is one the code validates;
a test compares the document with the live router. `docs_page` renders the document as plain
HTML (no scripts, no CDN): one section per route with its parameters, body and answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from simulator.scenario.model import Fault, Scenario

from . import models as m

if TYPE_CHECKING:
    from .api import ControlApi

API_PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{([a-z_]+)}")
_ERROR_TEXT = {
    400: "invalid parameter or body (where names it)",
    401: "missing or wrong bearer token",
    403: "remote peer refused (the API answers loopback only unless allowed)",
    404: "no such object",
    409: "not possible in the current state",
    503: "not available right now",
}


@dataclass(frozen=True)
class ApiRoute:
    """One documented route: what it takes, what it answers, and who may call it."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    yaml_body: bool = False  # the body may also be YAML text
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False  # no token and any peer (health)
    content_type: str = "application/json"

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[^a-z0-9]+", "_", f"{self.method} {self.path}".lower())
        return words.strip("_")


def _schemas(routes: Sequence[ApiRoute]) -> tuple[dict[tuple[Any, str], Any], dict[str, Any]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (m.ErrorBody, "serialization"): None
    }
    for route in routes:
        if route.body is not None:
            wanted[(route.body, "validation")] = None
        if route.response is not None:
            wanted[(route.response, "serialization")] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF)
    return {(model, mode): ref for (model, mode), ref in refs.items()}, top.get("$defs", {})


def _parameters(route: ApiRoute) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        properties = route.query.model_json_schema()["properties"]
        for name, info in route.query.model_fields.items():
            schema = dict(properties[name])
            description = schema.pop("description", None) or info.description
            schema.pop("title", None)
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": info.is_required(),
                "schema": schema,
            }
            if description:
                param["description"] = description
            params.append(param)
    return params


def _error_codes(route: ApiRoute) -> list[int]:
    codes = set(route.errors)
    if route.query is not None or route.body is not None or route.yaml_body:
        codes.add(400)
    if not route.public:
        codes.update((401, 403))
    return sorted(codes)


def build_document(routes: Iterable[ApiRoute], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `routes` (paths as registered, `{name}` path parameters)."""
    table = sorted(routes, key=lambda r: (r.path, r.method))
    refs, definitions = _schemas(table)
    error_ref = refs[(m.ErrorBody, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for route in table:
        answer: dict[str, Any] = {"description": route.summary}
        if route.response is not None:
            schema = refs[(route.response, "serialization")]
            answer["content"] = {route.content_type: {"schema": schema}}
        else:
            kind = "object" if route.content_type == "application/json" else "string"
            answer["content"] = {route.content_type: {"schema": {"type": kind}}}
        responses: dict[str, Any] = {str(route.status): answer}
        for code in _error_codes(route):
            responses[str(code)] = {
                "description": _ERROR_TEXT.get(code, "error"),
                "content": {"application/json": {"schema": error_ref}},
            }
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": _parameters(route),
            "responses": responses,
            "security": [] if route.public else [{"bearer": []}],
        }
        body: dict[str, Any] = {}
        if route.body is not None:
            body["application/json"] = {"schema": refs[(route.body, "validation")]}
        if route.yaml_body:
            body["application/yaml"] = {"schema": {"type": "string"}}
        if body:
            operation["requestBody"] = {"required": True, "content": body}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dlrsim control API",
            "version": version,
            "description": "Observe and drive a running dlrsim: messages and their timelines, "
            "receipts, webhooks, sessions, scenario, faults, clock. Errors always come as "
            '{"error": {"code", "message", "where"}}.',
        },
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


# -- the route table ---------------------------------------------------------------------------


def control_routes(api: ControlApi) -> list[ApiRoute]:
    """The control API's route table (paths under /api/v1)."""

    def r(
        method: str, path: str, handler: Handler, summary: str, tag: str, **options: Any
    ) -> ApiRoute:
        return ApiRoute(method, API_PREFIX + path, handler, summary, tag, **options)

    return [
        r(
            "GET",
            "/health",
            api.health,
            "liveness and listener addresses",
            "service",
            response=m.Health,
            public=True,
        ),
        r(
            "GET",
            "/version",
            api.version,
            "version and provider APIs",
            "service",
            response=m.Version,
        ),
        r("GET", "/openapi.json", api.openapi, "this API as OpenAPI 3.1", "service"),
        r(
            "GET",
            "/docs",
            api.docs,
            "this API as a readable page",
            "service",
            content_type="text/html",
        ),
        r(
            "GET",
            "/messages",
            api.messages,
            "stored messages, filtered",
            "messages",
            query=m.MessageQuery,
            response=m.MessageList,
        ),
        r(
            "GET",
            "/messages/{message_id}",
            api.message,
            "one message with its timeline",
            "messages",
            response=m.MessageDetail,
            errors=(404,),
        ),
        r(
            "POST",
            "/messages/{message_id}/status",
            api.push_status,
            "push a status to a message now (sends its receipt or webhook)",
            "messages",
            body=m.PushStatusRequest,
            response=m.PushStatusResponse,
            errors=(404, 409),
        ),
        r(
            "GET",
            "/receipts",
            api.receipts,
            "SMPP receipt deliveries from the journal",
            "journal",
            query=m.ReceiptQuery,
            response=m.ReceiptList,
        ),
        r(
            "GET",
            "/webhooks",
            api.webhooks,
            "webhook attempts with status codes",
            "journal",
            query=m.WebhookQuery,
            response=m.WebhookList,
        ),
        r(
            "GET",
            "/events",
            api.events,
            "journal entries after a seq (long-poll)",
            "journal",
            query=m.EventQuery,
            response=m.EventList,
            errors=(503,),
        ),
        r("GET", "/sessions", api.sessions, "SMPP sessions", "sessions", response=m.SessionList),
        r(
            "DELETE",
            "/sessions/{session_id}",
            api.disconnect,
            "unbind or drop a session",
            "sessions",
            query=m.DisconnectQuery,
            response=m.DisconnectResponse,
            errors=(404,),
        ),
        r(
            "GET",
            "/accounts",
            api.accounts,
            "accounts and their binds",
            "sessions",
            response=m.AccountList,
        ),
        r(
            "GET",
            "/scenario",
            api.get_scenario,
            "the active scenario",
            "scenario",
            response=m.ScenarioView,
        ),
        r(
            "PUT",
            "/scenario",
            api.put_scenario,
            "replace the scenario (YAML or JSON)",
            "scenario",
            body=Scenario,
            yaml_body=True,
            response=m.ScenarioView,
            errors=(409,),
        ),
        r(
            "POST",
            "/scenario/validate",
            api.validate_scenario,
            "check a scenario without switching to it",
            "scenario",
            body=Scenario,
            yaml_body=True,
            response=m.ScenarioValidation,
        ),
        r(
            "PUT",
            "/scenario/state",
            api.put_state,
            "switch the scenario's flow state",
            "scenario",
            body=m.StateRequest,
            response=m.StateResponse,
            errors=(409,),
        ),
        r("GET", "/faults", api.faults, "scenario and API faults", "faults", response=m.FaultList),
        r(
            "POST",
            "/faults",
            api.add_fault,
            "arm a fault (same shape as in a scenario)",
            "faults",
            body=Fault,
            response=m.FaultView,
            status=201,
            errors=(409,),
        ),
        r(
            "DELETE",
            "/faults/{fault_id}",
            api.remove_fault,
            "disarm an API fault",
            "faults",
            response=m.FaultView,
            errors=(404, 409),
        ),
        r("GET", "/clock", api.clock, "the simulation clock", "clock", response=m.ClockView),
        r(
            "POST",
            "/clock/advance",
            api.advance,
            "advance a virtual clock",
            "clock",
            body=m.AdvanceRequest,
            response=m.AdvanceResponse,
            errors=(409,),
        ),
        r(
            "PUT",
            "/clock/time-scale",
            api.time_scale,
            "set a real clock's speed",
            "clock",
            body=m.TimeScaleRequest,
            response=m.ClockView,
            errors=(409,),
        ),
        r(
            "POST",
            "/mo",
            api.mo,
            "inject a mobile-originated message",
            "messages",
            body=m.MoRequest,
            response=m.MoResponse,
            status=202,
            errors=(404, 409),
        ),
        r(
            "POST",
            "/reset",
            api.reset,
            "clear journal, messages, timelines and API faults",
            "service",
            response=m.ResetResponse,
        ),
    ]


# -- the docs page ---------------------------------------------------------------------------


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type_of(part) for part in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type_of(schema['additionalProperties'])}"
    return str(kind or "any")


def _rows(rows: Iterable[Sequence[str]]) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table>{cells}</table>" if cells else ""


def _schema_html(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    rows = [
        (
            field,
            _type_of(spec),
            "required" if field in required else "",
            str(spec.get("description", "")),
        )
        for field, spec in schema.get("properties", {}).items()
    ]
    doc = html.escape(str(schema.get("description", "")))
    return f'<h3 id="schema-{html.escape(name)}">{html.escape(name)}</h3><p>{doc}</p>{_rows(rows)}'


def docs_page(document: dict[str, Any], openapi_url: str) -> str:
    """A readable, self-contained HTML rendering of the document."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>dlrsim control API</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
        "code{background:#eee;padding:0 .3em}table{border-collapse:collapse;margin:.5em 0}"
        "td{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}"
        ".m{font-weight:bold;font-family:monospace}</style></head><body>",
        f"<h1>{html.escape(document['info']['title'])} {html.escape(document['info']['version'])}"
        "</h1>",
        f"<p>{html.escape(document['info']['description'])}</p>",
        f'<p>Machine-readable: <a href="{html.escape(openapi_url)}">openapi.json</a>. '
        "Send <code>Authorization: Bearer TOKEN</code> when the server has a token.</p>",
        "<h2>Routes</h2>",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parts.append(
                f'<h3 id="{html.escape(operation["operationId"])}"><span class="m">'
                f"{method.upper()}</span> <code>{html.escape(path)}</code></h3>"
                f"<p>{html.escape(operation['summary'])}</p>"
            )
            params = [
                (
                    p["name"],
                    p["in"],
                    _type_of(p["schema"]),
                    "required" if p["required"] else "",
                    p.get("description", ""),
                )
                for p in operation["parameters"]
            ]
            if params:
                parts.append("<p>Parameters:</p>" + _rows(params))
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                parts.append(
                    f"<p>Body ({html.escape(media)}): "
                    f"{html.escape(_type_of(content['schema']))}</p>"
                )
            answers = [
                (
                    code,
                    answer["description"],
                    ", ".join(_type_of(c["schema"]) for c in answer.get("content", {}).values()),
                )
                for code, answer in operation["responses"].items()
            ]
            parts.append("<p>Answers:</p>" + _rows(answers))
    parts.append("<h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        parts.append(_schema_html(name, schema))
    parts.append("</body></html>")
    return "\n".join(parts)
