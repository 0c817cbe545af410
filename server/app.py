"""The app factory: builds the store, live model, hub, reaper and routes of one process.

`create_app(settings)` is the only place that picks concrete classes; `app` is what uvicorn
serves (`uvicorn server.app:app`), configured from the environment.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from events.errors import EventLogError
from events.memory_store import MemoryStore
from events.postgres_store import PostgresStore
from events.sqlite_store import SQLiteStore
from server.api import admin, assist, audit, exports, items, labeling, projects, session, ws
from server.api.common import JSONResponse
from server.api.openapi import openapi_route
from server.auth.cookies import SessionSigner
from server.auth.errors import AuthError
from server.auth.memory_users import MemoryUserStore
from server.auth.postgres_users import PostgresUserStore
from server.auth.sqlite_users import SQLiteUserStore
from server.auth.users import UserStore
from server.commands import Commands
from server.errors import ApiError, from_auth_error, from_log_error
from server.hub import Hub
from server.leadership import Leadership, leadership_for
from server.live import LiveModel
from server.media.storage import MediaStore
from server.services import Services
from server.settings import Settings, secret_key_for

log = logging.getLogger(__name__)
CLIENT_DIR = Path(__file__).resolve().parent.parent / "client"


Store = SQLiteStore | MemoryStore | PostgresStore


async def open_stores(settings: Settings) -> tuple[Store, UserStore]:
    """The event store and user store that `settings.database` names."""
    if settings.memory_store or settings.database == ":memory:":
        return await MemoryStore.open(), MemoryUserStore()
    if settings.database.startswith(("postgres://", "postgresql://")):
        store = await PostgresStore.open(settings.database)
        try:
            return store, await PostgresUserStore.open(settings.database)
        except BaseException:
            await store.close()
            raise
    path = settings.database.removeprefix("sqlite:///")
    return await SQLiteStore.open(path), await SQLiteUserStore.open(path)


def create_app(settings: Settings | None = None) -> Starlette:
    """A Starlette app serving the API, the websocket and the client for these settings."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store, users = await open_stores(settings)
        if isinstance(store, PostgresStore) and not settings.secret_key:
            log.warning(
                "ANNOLOG_SECRET_KEY is not set: this process signs sign-ins with a key of its "
                "own, which the other processes on this database reject (docs/deploy.md)"
            )
        live = LiveModel(store, store)
        await live.start()
        hub = Hub(settings.progress_push_interval)
        live.listeners.append(hub.publish)
        hub.start(lambda: live.workspace)
        commands = Commands(store, live)
        # One reaper across all the processes on a shared database (docs/deploy.md).
        reaper = leadership_for(
            "" if settings.memory_store else settings.database, "reaper", settings.reaper_interval
        )
        await reaper.start()
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        app.state.services = Services(
            settings=settings,
            store=store,
            checkpoints=store,
            live=live,
            commands=commands,
            hub=hub,
            users=users,
            signer=SessionSigner(secret_key_for(settings)),
            media=MediaStore(settings.media_dir),
        )
        tasks = [
            asyncio.create_task(_reap(commands, hub, live, settings, reaper), name="reaper"),
            asyncio.create_task(
                _checkpoints(live, settings.checkpoint_interval), name="checkpoints"
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await reaper.stop()
            await hub.stop()
            await live.stop()
            with contextlib.suppress(EventLogError):
                await live.save_checkpoint()
            await store.close()
            await users.close()

    routes = [
        *session.routes,
        *projects.routes,
        *items.routes,
        *labeling.routes,
        *audit.routes,
        *admin.routes,
        *assist.routes,
        *exports.routes,
        *ws.routes,
        openapi_route,
    ]
    if CLIENT_DIR.is_dir():
        routes.append(Mount("/", app=StaticFiles(directory=CLIENT_DIR, html=True), name="client"))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            EventLogError: _log_error,
            AuthError: _auth_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    return app


async def _reap(
    commands: Commands, hub: Hub, live: LiveModel, settings: Settings, leadership: Leadership
) -> None:
    """Ends lapsed leases (their pages go back to the queue) and warns those about to lapse.

    Only the leading process ends leases; every process warns its own websocket clients.
    """
    while True:
        await asyncio.sleep(settings.reaper_interval)
        try:
            if leadership.is_leader():
                await commands.expire_leases()
            hub.warn_leases(live.workspace, time.time(), settings.lease_warning_seconds)
        except Exception:
            log.exception("reaper step failed; trying again")


async def _checkpoints(live: LiveModel, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await live.save_checkpoint()
        except Exception:
            log.exception("saving the checkpoint failed; trying again later")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _log_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EventLogError)
    return await _api_error(request, from_log_error(exc))


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    return await _api_error(request, from_auth_error(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": f"{exc.detail}: {request.method} {request.url.path}"}},
        status_code=exc.status_code,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"error": {"code": "internal", "message": "an unexpected error; it was logged"}},
        status_code=500,
    )


app = create_app()
