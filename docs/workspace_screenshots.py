"""Screenshots of every page of the web workspace, for docs/workspace.md.

Run `make screenshots` (or `.venv/bin/python docs/workspace_screenshots.py --workspace
workspace`) after `make run`: it starts the service on that workspace on a free
127.0.0.1 port, signs in in headless Chromium (the system's, as the browser tests use)
and writes docs/images/workspace-<page>.png: the top of each page at laptop width, and
the list and a customer at tablet width. Rerun it after a change to a page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the live-server helper of the e2e tests

from live_server import API_KEY, CHROMIUM_MISSING, serve_settings, system_chromium  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from zerochurn.configs import load_settings  # noqa: E402

IMAGES = HERE / "images"
LAPTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
PAGES = {
    "at-risk": "/app/",
    "customer": None,  # the first customer of the list
    "segments": "/app/segments",
    "satisfaction": "/app/satisfaction",
    "complaints": "/app/complaints",
    "model-health": "/app/model",
}
TABLET_PAGES = ("at-risk", "customer")
TIMEOUT_MS = 120_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("workspace"))
    args = parser.parse_args()
    settings = load_settings(overrides={"workspace": str(args.workspace)}, environ={})
    if not (args.workspace / "scores" / "snapshot.sqlite").is_file():
        sys.exit(f"{args.workspace} has no batch scores: run `make run` first")
    executable = system_chromium() or sys.exit(CHROMIUM_MISSING)
    IMAGES.mkdir(exist_ok=True)
    with (
        serve_settings(settings, IMAGES / ".server.log") as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page(viewport=LAPTOP)
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{server.url}/app/signin")
        page.screenshot(path=IMAGES / "workspace-signin.png")
        page.fill("input[name=api_key]", API_KEY)
        page.click("form[action='/app/signin'] button[type=submit]")
        page.wait_for_url(f"{server.url}/app/")
        customer = page.locator("#customers tbody tr a").first.get_attribute("href")
        for name, path in PAGES.items():
            page.goto(server.url + (path or customer))
            page.screenshot(path=IMAGES / f"workspace-{name}.png")
            if name in TABLET_PAGES:
                page.set_viewport_size(TABLET)
                page.screenshot(path=IMAGES / f"workspace-{name}-tablet.png")
                page.set_viewport_size(LAPTOP)
        browser.close()
    (IMAGES / ".server.log").unlink(missing_ok=True)
    sys.stdout.write(f"wrote {len(PAGES) + len(TABLET_PAGES) + 1} screenshots to {IMAGES}\n")


if __name__ == "__main__":
    main()
