"""The app end to end: `streamlit run` on a free port, driven in headless Chromium by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# The machine's closed network refuses Chromium's background connections; these keep it from trying.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 90
# A rerun with pgmpy's exact inference (the next question especially) takes several seconds on a busy machine.
RERUN_MS = 120_000

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """The app served by `streamlit run` on a free local port; stopped after the test."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "streamlit.log"
    command = [
        *(sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")),
        *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
        *("--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"),
    ]
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not come up at {url}:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.25)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[Page]:
    # Fail, never skip: CI installs Chromium with scripts/ensure_chromium.sh before the tests. Checked before the
    # server starts, so a missing browser fails at once.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing; run scripts/ensure_chromium.sh (Debian's chromium package)"
    app_url = request.getfixturevalue("app_url")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(RERUN_MS)
            page.goto(app_url)
            yield page
        finally:
            browser.close()


def test_the_page_shows_the_new_advice_when_the_answers_change(page: Page, tmp_path: Path) -> None:
    # Nothing answered: the advice is given from what is known, and says the warning signs were not asked.
    self_care = page.locator(".st-key-care_self_care")
    expect(self_care, "nothing answered").to_contain_text("Rest, warmth and gentle movement", timeout=RERUN_MS)
    expect(self_care).to_contain_text("not asked")
    expect(self_care).not_to_contain_text("No warning signs")
    expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()

    page.locator(".st-key-numbness").get_by_text("in the legs", exact=True).click()
    expect(page.locator(".st-key-care_routine")).to_contain_text("within the next one to two weeks", timeout=RERUN_MS)

    page.locator(".st-key-fall_or_impact").get_by_text("yes", exact=True).click()
    expect(page.locator(".st-key-care_urgent")).to_contain_text(
        "See a doctor today, within 24 hours.", timeout=RERUN_MS
    )

    # The slider has no "unknown": moving it answers the question and ticks its checkbox.
    page.locator(".st-key-severity").get_by_role("slider").press("End")
    emergency = page.locator(".st-key-care_emergency")
    expect(emergency).to_contain_text("Go to an emergency department or call emergency services now.", timeout=RERUN_MS)
    expect(emergency).to_contain_text("Severe pain with numb legs after a fall")
    expect(page.locator(".st-key-severity_known").get_by_role("checkbox")).to_be_checked()
    expect(page.locator(".st-key-care_urgent")).to_have_count(0)

    shot = tmp_path / "emergency.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
