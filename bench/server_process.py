"""The server process the benchmarks measure: a real uvicorn on a SQLite file, on a free port
of 127.0.0.1, with its CPU time (/proc) and the figures taken of a run.

Both sides' CPU time is reported: the load runs in the benchmark's own process (see
lean_clients.py), and on a 2-core machine what it spends is taken from the server.
"""

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from lean_clients import Http

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def send_queue(server_port: int, client_port: int) -> int | None:
    """Bytes the kernel holds, unsent or unacknowledged, on the server's side of a connection
    from `client_port` (from /proc/net/tcp), or None when there is no such socket."""
    wanted = f"0100007F:{server_port:04X} 0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if f"{fields[1]} {fields[2]}" == wanted:
            return int(fields[4].split(":")[0], 16)
    return None


def own_cpu() -> float:
    return time.process_time()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def server_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "server.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--ws-per-message-deflate",
        "false",
        "--log-level",
        "warning",
    ]


class Server:
    """A uvicorn process serving annolog on a SQLite file, on a free port of 127.0.0.1."""

    def __init__(self, database: Path, env: dict[str, str] | None = None) -> None:
        self.database = database
        self.port = free_port()
        self.env = {
            **os.environ,
            "ANNOLOG_DATABASE": str(database),
            "ANNOLOG_MEDIA_DIR": str(database.parent / "media"),
            "ANNOLOG_SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def launch(self) -> None:
        self.process = subprocess.Popen(server_command(self.port), cwd=REPO, env=self.env)

    async def start(self) -> None:
        """Launches uvicorn and waits until it answers."""
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}")
            try:
                http = await Http.connect(self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            status, _ = await http.request("GET", "/openapi.json")
            http.close()
            if status == 200:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("uvicorn did not start within 60 s")

    def stop(self) -> None:
        """A clean shutdown (SIGINT: the lifespan closes the store), killed after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def log_bodies(database: Path) -> list[bytes]:
    """Every stored envelope of a (stopped) server's log, in seq order."""
    conn = sqlite3.connect(database)
    try:
        return [body for (body,) in conn.execute("SELECT body FROM events ORDER BY seq")]
    finally:
        conn.close()
