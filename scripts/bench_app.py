"""The app's figures (printed, never asserted): time from a widget change to the new advice in the browser, and
our own work per rerun.

Run by `make bench` after scripts/bench.py. It serves the app with `streamlit run` on a free local port, drives
headless Chromium (/usr/bin/chromium) through Playwright, and answers warning signs yes and no in turn, each a
case the app has not met (so nothing comes from its caches). Options: --changes N (widget changes, default 16).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.diagnosis import diagnose  # noqa: E402
from tests.test_app_browser import CHROMIUM, CHROMIUM_ARGS, free_port, healthy  # noqa: E402

# Routine-level warning signs: each answer moves the advice between "no advice yet" and "see a doctor".
SIGNS = ("cancer_history", "weight_loss", "steroid_use", "immunosuppressed", "iv_drug_use", "thoracic_pain")
ADVICE = ".st-key-advice"


def browser_latencies(changes: int) -> list[float]:
    """Seconds from each click to the advice's new text on the page."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true"),
        *("--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"),
    ]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not healthy(url):
                time.sleep(0.25)
            with urllib.request.urlopen(url, timeout=10):
                pass
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(120_000)
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
        finally:
            server.terminate()
            server.wait(timeout=15)
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


def summary(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    print(f"{name:<58} median {statistics.median(ms):7.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f}; {len(ms)} changes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=16)
    args = parser.parse_args()
    summary("browser: widget change to the new advice on the page", browser_latencies(args.changes))
    whole, model_work = rerun_work(args.changes)
    summary("our work per rerun (AppTest, the whole script)", whole)
    summary("of which the model's diagnosis (uncached)", model_work)


if __name__ == "__main__":
    main()
