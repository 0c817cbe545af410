"""Settings of a server process, read from environment variables (see docs/deploy.md)."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from exc


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, not {value!r}") from exc


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Where the data lives and the limits and timings the server works with."""

    database: str = "annolog.db"
    media_dir: Path = Path("annolog-media")
    # None: resolved when the app starts (see `secret_key_for`), never at import.
    secret_key: bytes | None = None
    secure_cookies: bool = False
    session_max_age: int = 14 * 24 * 3600
    default_lease_seconds: int = 900
    # Heartbeats arrive every few seconds; the log records a renewal at most this often.
    renewal_record_seconds: float = 30.0
    lease_warning_seconds: float = 60.0
    reaper_interval: float = 1.0
    max_body_bytes: int = 4 * 1024 * 1024
    max_upload_bytes: int = 512 * 1024 * 1024
    client_queue_frames: int = 1_000
    progress_push_interval: float = 0.25
    checkpoint_interval: float = 300.0
    memory_store: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings from ANNOLOG_* variables (DATABASE_URL selects PostgreSQL)."""
        database = os.environ.get("DATABASE_URL") or os.environ.get(
            "ANNOLOG_DATABASE", "annolog.db"
        )
        return cls(
            database=database,
            media_dir=Path(os.environ.get("ANNOLOG_MEDIA_DIR", "annolog-media")),
            secret_key=os.environ.get("ANNOLOG_SECRET_KEY", "").encode() or None,
            secure_cookies=_bool("ANNOLOG_SECURE_COOKIES", False),
            session_max_age=_int("ANNOLOG_SESSION_MAX_AGE", 14 * 24 * 3600),
            default_lease_seconds=_int("ANNOLOG_LEASE_SECONDS", 900),
            renewal_record_seconds=_float("ANNOLOG_RENEWAL_RECORD_SECONDS", 30.0),
            lease_warning_seconds=_float("ANNOLOG_LEASE_WARNING_SECONDS", 60.0),
            reaper_interval=_float("ANNOLOG_REAPER_INTERVAL", 1.0),
            max_body_bytes=_int("ANNOLOG_MAX_BODY_BYTES", 4 * 1024 * 1024),
            max_upload_bytes=_int("ANNOLOG_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
            client_queue_frames=_int("ANNOLOG_CLIENT_QUEUE_FRAMES", 1_000),
            checkpoint_interval=_float("ANNOLOG_CHECKPOINT_SECONDS", 300.0),
        )


def secret_key_for(settings: Settings) -> bytes:
    """The configured key, or one kept in a file beside a SQLite database so that sign-ins
    survive a restart; a PostgreSQL deployment must set ANNOLOG_SECRET_KEY (docs/deploy.md)."""
    if settings.secret_key:
        return settings.secret_key
    database = settings.database
    if database.startswith(("postgres://", "postgresql://")) or database == ":memory:":
        return secrets.token_bytes(32)
    path = Path(f"{database}.secret")
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    path.write_text(key.hex())
    path.chmod(0o600)
    return key
