"""Read-model checkpoints in PostgreSQL: a row per read model, its state and the seq it folds."""

import asyncpg

from events.postgres_connections import translated


async def save_checkpoint(pool: asyncpg.Pool, name: str, seq: int, state: bytes) -> None:
    """Keeps `state`, folded up to `seq`, as the checkpoint of read model `name`."""
    with translated():
        await pool.execute(
            "INSERT INTO read_models (name, seq, state) VALUES ($1, $2, $3)"
            " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, state = excluded.state",
            name,
            seq,
            state,
        )


async def load_checkpoint(pool: asyncpg.Pool, name: str) -> tuple[int, bytes] | None:
    """The seq and state of read model `name`'s checkpoint, or None."""
    with translated():
        row = await pool.fetchrow("SELECT seq, state FROM read_models WHERE name = $1", name)
    return None if row is None else (row["seq"], row["state"])


async def drop_checkpoint(pool: asyncpg.Pool, name: str) -> None:
    """Forgets read model `name`'s checkpoint, so that it is rebuilt from the start."""
    with translated():
        await pool.execute("DELETE FROM read_models WHERE name = $1", name)
