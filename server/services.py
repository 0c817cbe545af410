"""What request handlers share, built once by the app's lifespan and reached through the app."""

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from events.store import CheckpointStore, EventStore
from server.auth.cookies import SessionSigner
from server.auth.users import UserStore
from server.commands import Commands
from server.hub import Hub
from server.live import LiveModel
from server.media.storage import MediaStore
from server.settings import Settings


@dataclass
class Services:
    """The store, the live model, the write path, the hub, users and media of one process."""

    settings: Settings
    store: EventStore
    checkpoints: CheckpointStore
    live: LiveModel
    commands: Commands
    hub: Hub
    users: UserStore
    signer: SessionSigner
    media: MediaStore


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found
