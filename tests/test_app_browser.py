"""The app end to end: `streamlit run` on a free port, driven in headless Chromium by Playwright, at a desktop
and a phone size: what is in sight without scrolling, the emergency, WCAG 2.1 AA (axe-core), and no request
leaving the machine. Screenshots go to out/screenshots/ (ignored by git)."""

from __future__ import annotations

import json
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
from playwright.sync_api import Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "out" / "screenshots"
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
# A cold first run (the engine, the first next question) takes 10-20 s on a busy machine.
RERUN_MS = 120_000
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}

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


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by `streamlit run` on a free local port; stopped after the tests."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
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


@pytest.fixture(params=list(SIZES))
def page(request: pytest.FixtureRequest) -> Iterator[Page]:
    # Fail, never skip: `make test` installs Chromium (scripts/ensure_chromium.sh) and axe-core (npm ci) first.
    # Checked before the server starts, so a missing one fails at once.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing; run scripts/ensure_chromium.sh (Debian's chromium package)"
    assert AXE.exists(), f"{AXE} is missing; run `npm ci` in the project root"
    app_url = request.getfixturevalue("app_url")
    width, height = SIZES[request.param]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(RERUN_MS)
            expect.set_options(timeout=RERUN_MS)  # assertions wait as long as actions: a rerun can take seconds
            hosts: list[str] = []
            page.on("request", lambda r: hosts.append(r.url.split("/")[2] if "://" in r.url else r.url))
            page.goto(app_url)
            page.size_name = request.param  # type: ignore[attr-defined]
            page.hosts = hosts  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


def idle(page: Page) -> None:
    """Wait until the script run is over: during a run Streamlit fades the elements it has not redrawn yet."""
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(1, timeout=RERUN_MS)
    # The fade back in is a CSS transition of its own, slower on a loaded machine than any fixed wait: wait until
    # no element is marked stale and every element is fully opaque again (axe measures contrast through opacity).
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]') && [...document.querySelectorAll("
        "'[data-testid=\"stElementContainer\"]')].every(e => getComputedStyle(e).opacity === '1')",
        timeout=RERUN_MS,
    )


def in_sight(page: Page, locator: Locator) -> None:
    """The element's box lies inside the viewport as the page first shows (nothing scrolled or opened)."""
    box = locator.bounding_box()
    assert box is not None
    height = page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (box, height)


def accessibility_failures(page: Page) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page once the run is over, one line each."""
    idle(page)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))"
    )
    return [f"{v['id']}: {node}" for v in found for node in v["nodes"]]


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}_{page.size_name}.png"  # type: ignore[attr-defined]
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


def answer(page: Page, group: str, field: str, words: str) -> None:
    """Once the last answer's run is over, open a group of questions if it is closed, and click an answer: a click
    while a run redraws the page can land on an element being replaced and be lost (seen once, under load)."""
    idle(page)
    question = page.locator(f".st-key-{field}")
    if not question.is_visible():
        page.locator("summary").filter(has=page.get_by_text(group, exact=True)).click()
    question.get_by_text(words, exact=True).click()
    expect(question.get_by_role("radio", name=words, exact=True)).to_be_checked(timeout=RERUN_MS)


def test_advice_and_the_first_question_in_sight_then_the_emergency(page: Page) -> None:
    pending = page.locator(".st-key-care_pending")
    expect(pending, "nothing answered: no advice yet").to_contain_text("first the warning signs", timeout=RERUN_MS)
    card = page.locator(".st-key-next_question")
    expect(card).to_contain_text("Next question:", timeout=RERUN_MS)
    idle(page)
    in_sight(page, pending)
    in_sight(page, card.get_by_text("Next question:"))
    expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()
    shot(page, "first")
    failures = accessibility_failures(page)
    assert not failures, "\n".join(failures)

    answer(page, "The pain", "numbness", "in the legs")
    expect(page.locator(".st-key-care_routine")).to_contain_text("within the next one to two weeks")
    answer(page, "What happened", "fall_or_impact", "yes")
    expect(page.locator(".st-key-care_urgent")).to_contain_text("See a doctor today, within 24 hours.")
    in_sight(page, page.locator(".st-key-care_urgent"))  # pinned: in sight wherever the questions are scrolled
    severity = page.locator(".st-key-severity input")
    severity.fill("9")
    severity.press("Enter")
    emergency = page.locator(".st-key-care_emergency")
    expect(emergency).to_contain_text("Call emergency services now, or go to the emergency department.")
    expect(emergency).to_contain_text("Severe pain with numb legs after a fall")
    expect(emergency).to_be_in_viewport(ratio=0.99)
    shot(page, "emergency")
    failures = accessibility_failures(page)
    assert not failures, "\n".join(failures)

    page.locator(".st-key-emergency_seen_button button").click()
    pinned = page.locator(".st-key-care_emergency_box")
    expect(pinned).to_contain_text("Emergency")
    in_sight(page, pinned)
    assert set(page.hosts) == {page.url.split("/")[2]}, f"requests left the machine: {sorted(set(page.hosts))}"  # type: ignore[attr-defined]


def test_the_file_tab_passes_the_contrast_check(page: Page) -> None:
    expect(page.locator(".st-key-care_pending")).to_be_visible(timeout=RERUN_MS)
    page.get_by_role("tab", name="Score a file of cases").click()
    page.locator(".st-key-score_examples").get_by_text("Score the example cases").click()
    expect(page.get_by_text("Download the scored CSV")).to_be_visible()
    shot(page, "files")
    failures = accessibility_failures(page)
    assert not failures, "\n".join(failures)
    print(json.dumps(sorted(set(page.hosts))))  # type: ignore[attr-defined]
