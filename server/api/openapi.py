"""The OpenAPI document, made from the routes themselves and the msgspec types they accept."""

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from server.api.common import JSONResponse

F = TypeVar("F", bound=Callable[..., Any])


def accepts(body: type) -> Callable[[F], F]:
    """Marks a handler with the type of JSON body it reads, for the OpenAPI document."""

    def mark(handler: F) -> F:
        handler.body_type = body  # type: ignore[attr-defined]
        return handler

    return mark


def document(routes: list[Any]) -> dict[str, Any]:
    bodies = {
        r.endpoint.body_type
        for r in routes
        if isinstance(r, Route) and hasattr(r.endpoint, "body_type")
    }
    body_schemas, components = msgspec.json.schema_components(
        sorted(bodies, key=lambda t: t.__name__), ref_template="#/components/schemas/{name}"
    )
    by_type = dict(zip(sorted(bodies, key=lambda t: t.__name__), body_schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.path.startswith("/api"):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operation: dict[str, Any] = {
                "summary": (route.endpoint.__doc__ or route.name).strip().splitlines()[0],
                "responses": {
                    "200": {"description": "JSON"},
                    "4XX": {"description": '{"error": {"code", "message", "field"}}'},
                },
            }
            body = getattr(route.endpoint, "body_type", None)
            if body is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": by_type[body]}},
                }
            params = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in route.param_convertors
            ]
            if params:
                operation["parameters"] = params
            paths.setdefault(route.path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "annolog", "version": "0.1.0", "description": "See docs/api.md."},
        "paths": paths,
        "components": {"schemas": components},
    }


async def openapi(request: Request) -> JSONResponse:
    """The OpenAPI 3.1 document of this server."""
    return JSONResponse(document(request.app.routes))


openapi_route = Route("/openapi.json", openapi, methods=["GET"])
