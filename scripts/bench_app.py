"""The app's figures (printed, never asserted): its start, time from a widget change to the new advice in the
browser, and our own work per rerun.

Run by `make bench` after scripts/bench.py. It serves the app with `streamlit run` on a free local port and drives
headless Chromium (/usr/bin/chromium) through Playwright. The start: for each of N new servers, the time from
launching `streamlit run` to the loading notice on the page, and to the page usable (the advice and the first
question drawn), then a second browser session's time to usable on that running server. The starts are warm: one
start before them, not counted, reads the code and compiles its bytecode. The changes answer warning signs yes and
no in turn, each a case the app has not met (so nothing comes from its caches). Options: --starts N (new servers,
default 3), --changes N (widget changes, default 16).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.diagnosis import diagnose  # noqa: E402
from tests.test_app_browser import CHROMIUM, CHROMIUM_ARGS, free_port, healthy  # noqa: E402

# Routine-level warning signs: each answer moves the advice between "no advice yet" and "see a doctor".
SIGNS = ("cancer_history", "weight_loss", "steroid_use", "immunosuppressed", "iv_drug_use", "thoracic_pain")
ADVICE = ".st-key-advice"


# In the page from its first moment: the wall-clock time (ms) at which each state was first drawn, checked every
# frame, so a state is caught however briefly it lasts. `usable`: the advice and the first question drawn.
RECORD_STATES = """
window.__seen = {};
const drawn = (e) => e !== null && e.checkVisibility() && e.innerText.trim() !== "";
const states = {
  loading: () => document.body !== null && document.body.innerText.includes("Loading the network"),
  usable: () => drawn(document.querySelector(".st-key-advice"))
    && drawn(document.querySelector(".st-key-next_question"))
    && document.querySelector(".st-key-next_question").innerText.includes("Next question:"),
};
const check = () => {
  for (const [name, seen] of Object.entries(states)) {
    if (!(name in window.__seen) && seen()) window.__seen[name] = Date.now();
  }
  if (!("usable" in window.__seen)) requestAnimationFrame(check);
};
requestAnimationFrame(check);
"""


@contextlib.contextmanager
def served() -> Iterator[tuple[str, float]]:
    """The app served by a new `streamlit run` on a free local port: its URL once it answers, and the wall-clock
    time (time.time()) just before the server process was launched."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true"),
        *("--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1"),
        *("--server.fileWatcherType", "none"),
    ]
    with tempfile.TemporaryFile() as log:
        launched = time.time()
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not healthy(url):
                if server.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"streamlit stopped before it served {url}:\n{log.read().decode()[-3000:]}")
                time.sleep(0.05)
            yield url, launched
        finally:
            server.terminate()
            server.wait(timeout=15)


def chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def session(browser: Browser) -> Page:
    """A new browser session (its own context: nothing cached, as for another person) with a blank page that
    records when the app's states are first drawn."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    page.add_init_script(RECORD_STATES)
    return page


def seen(page: Page, url: str) -> dict[str, float]:
    """The session opens the app: the wall-clock times (s, time.time()) at which it was opened, at which the page
    first showed the loading notice (if it did), and at which it was first usable."""
    opened = time.time()
    page.goto(url)
    page.wait_for_function("() => 'usable' in window.__seen")
    found = {"opened": opened} | {name: ms / 1000 for name, ms in page.evaluate("() => window.__seen").items()}
    # the first run over (the file tab is drawn after the first question) before anything else is timed
    page.locator('[data-test-script-state="notRunning"]').wait_for(state="attached")
    page.context.close()
    return found


def start_times(starts: int) -> dict[str, list[float]]:
    """For each of `starts` new servers (after one not counted), seconds from launching `streamlit run` to: its
    health check answering, the loading notice on the page, and the page usable; then a second session's seconds
    from opening the page to usable on the same server. Chromium and both sessions are ready before the server
    is launched, so their own start is not counted; the first session opens the page once the server answers."""
    found: dict[str, list[float]] = {"answering": [], "notice": [], "usable": [], "second": []}
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        for start in range(starts + 1):
            first_page, second_page = session(browser), session(browser)
            with served() as (url, launched):
                answering = time.time()
                first = seen(first_page, url)
                again = seen(second_page, url)
            if start == 0:
                continue  # warming: the code read from disk and its bytecode compiled
            if "loading" not in first:
                raise SystemExit("the loading notice was never drawn on a new server's first page")
            found["answering"].append(answering - launched)
            found["notice"].append(first["loading"] - launched)
            found["usable"].append(first["usable"] - launched)
            found["second"].append(again["usable"] - again["opened"])
        browser.close()
    return found


def browser_latencies(changes: int) -> list[float]:
    """Seconds from each click to the advice's new text on the page."""
    with served() as (url, _), sync_playwright() as playwright:
        with urllib.request.urlopen(url, timeout=10):
            pass
        browser = chromium(playwright)
        page = session(browser)
        page.goto(url)
        page.locator(".st-key-next_question").wait_for()
        found = []
        for i in range(changes):
            sign = SIGNS[(i // 2) % len(SIGNS)]
            words = "yes" if i % 2 == 0 else "no"
            before = page.locator(ADVICE).inner_text()
            page.wait_for_timeout(300)  # the previous run's last element (the next question) drawn
            start = time.perf_counter()
            page.locator(f".st-key-{sign}").get_by_text(words, exact=True).click()
            page.wait_for_function(
                "([selector, before]) => { const e = document.querySelector(selector);"
                " return e && e.innerText !== before; }",
                arg=[ADVICE, before],
                polling="raf",
            )
            found.append(time.perf_counter() - start)
        browser.close()
    return found


def rerun_work(changes: int) -> tuple[list[float], list[float]]:
    """Seconds of each rerun under AppTest (the whole script, warm), and of the model's diagnosis of the same case
    alone. While a warning sign is open the next question is the first open one, so no ranking runs."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    whole, model_work = [], []
    for i in range(changes):
        sign = SIGNS[(i // 2) % len(SIGNS)]
        at.radio(key=sign).set_value("yes" if i % 2 == 0 else "no")
        start = time.perf_counter()
        at.run()
        whole.append(time.perf_counter() - start)
        case = {s: at.radio(key=s).value for s in SIGNS if at.radio(key=s).value is not None}
        start = time.perf_counter()
        diagnose(case)
        model_work.append(time.perf_counter() - start)
    return whole, model_work


def summary(name: str, seconds: list[float], what: str = "changes") -> None:
    ms = sorted(s * 1000 for s in seconds)
    print(f"{name:<58} median {statistics.median(ms):7.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f}; {len(ms)} {what})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--changes", type=int, default=16)
    args = parser.parse_args()
    start = start_times(args.starts)
    summary("start: launching the server to its health check answering", start["answering"], "starts")
    summary("start: launching the server to the loading notice", start["notice"], "starts")
    summary("start: launching the server to the page usable", start["usable"], "starts")
    summary("start: a second session, opening the page to usable", start["second"], "starts")
    summary("browser: widget change to the new advice on the page", browser_latencies(args.changes))
    whole, model_work = rerun_work(args.changes)
    summary("our work per rerun (AppTest, the whole script)", whole)
    summary("of which the model's diagnosis (uncached)", model_work)


if __name__ == "__main__":
    main()
