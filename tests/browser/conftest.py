"""The running app for browser tests: a free localhost port, a temporary store holding the
test school's roll and first week (tests/app_school.py), and headless Chromium.

The server is started once for the browser tests and stopped at the end; `restart()`
stops and starts it again on the same store (for "the first request after a restart").
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core import auth
from tests.app_school import ROOT, make_school

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on localhost, serving the store named by PASTORAL_DB."""

    def __init__(self, db_path: Path, secrets: Path, log: Path):
        self.db_path, self.secrets, self.log = db_path, secrets, log
        self.process: subprocess.Popen | None = None
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PASTORAL_DB": str(self.db_path), "PASTORAL_SECRETS": str(self.secrets)}
        command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
                   "--server.address", "localhost", "--server.headless", "true",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The app stopped while starting; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"The app did not start within 30 s; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def browser_school(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("browser_school")
    previous, auth.HASH_ROUNDS = auth.HASH_ROUNDS, 4
    try:
        files = make_school(folder / "school.db", folder / "exports", weeks=1)
    finally:
        auth.HASH_ROUNDS = previous
    return {"folder": folder, "db": folder / "school.db", "files": files}


@pytest.fixture(scope="session")
def app_server(browser_school):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    folder = browser_school["folder"]
    server = AppServer(browser_school["db"], folder / "secrets.toml", folder / "streamlit.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()
