"""Debian's chromium for Playwright, and the demo server it browses: the one setup that the
browser tests (tests/browser/conftest.py), bench/client.py and scripts/screenshots.py share.

Chromium renders in software (--disable-gpu) and makes no background traffic, so that timings
and pixels depend on neither the machine's GPU nor the network.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).exists()), None
)
NOT_INSTALLED = "Debian's chromium is not installed: run scripts/install-test-deps"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1360, "height": 860}
START = "import sys; from server.cli import main; sys.exit(main())"


def launch_options(*extra_args: str) -> dict[str, Any]:
    """The keyword arguments of Playwright's `chromium.launch` for Debian's chromium."""
    if CHROMIUM is None:
        raise RuntimeError(NOT_INSTALLED)
    return {"executable_path": CHROMIUM, "args": [*CHROMIUM_ARGS, *extra_args]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def demo_server(
    root: Path, env: dict[str, str] | None = None, within: float = 120.0
) -> Iterator[str]:
    """`annolog demo` seeded into `root`, on a free port of 127.0.0.1: yields its base URL once
    it answers, and stops it when the block ends."""
    port = free_port()
    environment = {
        **os.environ,
        "ANNOLOG_DATABASE": str(root / "demo.db"),
        "ANNOLOG_MEDIA_DIR": str(root / "media"),
        **(env or {}),
    }
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", START, "demo", "--port", str(port)],
            cwd=root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + within
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the demo server exited:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    # Signed out, the session route answers 401: the app is up.
                    if httpx.get(f"{base}/api/session", timeout=1).status_code == 401:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the demo server did not answer within {within:g} s:\n"
                        f"{log_path.read_text()[-3000:]}"
                    )
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
