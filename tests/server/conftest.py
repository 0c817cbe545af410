"""Fixtures of the server's integration tests: real uvicorn processes on 127.0.0.1, real clients.

The servers (`servers.py`), the HTTP clients (`clients.py`) and the websocket client
(`sockets.py`) live in modules of their own, which the tests import; here are the fixtures.
"""

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.server.clients import Clients, http_client
from tests.server.servers import Server, ServerFactory, Template, running_servers, seed_template
from tests.server.sockets import Socket


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("template")
    return Template(root, seed_template(root))


@pytest.fixture
def make_server(
    template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerFactory]:
    """Servers of one test (for tests that restart, kill or configure them)."""
    with running_servers(template, tmp_path_factory) as make:
        yield make


@pytest.fixture(scope="module")
def server(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server shared by the tests of a module; each test makes projects of its own."""
    with running_servers(template, tmp_path_factory) as make:
        yield make()


@pytest.fixture(scope="session")
def tokens(template: Template) -> dict[str, list[str]]:
    return template.tokens


@pytest.fixture
async def clients(server: Server, tokens: dict[str, list[str]]) -> AsyncIterator[Clients]:
    async with http_client(server) as http:
        yield Clients(http, tokens)


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    """A list the test appends its sockets to; every one is closed after the test."""
    opened: list[Socket] = []
    yield opened
    for socket_ in opened:
        await socket_.close()
