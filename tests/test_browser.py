"""The web chat in a real browser (Debian's Chromium through Playwright): ask, see the cited source,
ask a follow-up, and check that markup in a question is shown as text and never run.
Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import app
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
ANSWER_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(seeds_assistant):
    settings = app.WebSettings(port=free_port())
    demo = app.build_app(seeds_assistant)
    demo.launch(**app.launch_options(settings), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    off_machine = []
    page.on("request", lambda r: None if r.url.startswith(app_url) else off_machine.append(r.url))
    page.goto(app_url)
    page.wait_for_selector("#qa-question textarea")
    yield page
    page.close()
    assert off_machine == [], f"the page asked for something not served by the app: {off_machine}"


def ask(page, question: str, turn: int) -> str:
    """Type `question`, send it, wait for answer number `turn` to finish; return its text."""
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    bots = page.locator('#qa-chat [data-testid="bot"]')
    page.wait_for_function(
        """([n]) => {
            const bots = document.querySelectorAll('#qa-chat [data-testid="bot"]');
            return bots.length >= n && /Answered by|Could not answer/.test(bots[n - 1].innerText);
        }""",
        arg=[turn],
        timeout=ANSWER_TIMEOUT_MS,
    )
    return bots.nth(turn - 1).inner_text()


def test_chat_cites_sources_follows_up_and_shows_markup_as_text(page):
    ARTIFACTS.mkdir(exist_ok=True)

    first = ask(page, "Which Russian ambassador did Seoul summon?", 1)
    assert "Zinoviev" in first and "[1]" in first and "Answered by offline" in first
    sources = page.locator("#qa-sources")
    cited = sources.locator(".qa-citation")
    assert "001_d6d462e10cf7b47f.txt" in " ".join(cited.all_inner_texts())
    assert "Zinoviev" in cited.locator("mark").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "chat-1-answer.png"), full_page=True)

    follow = ask(page, "What did he say in response?", 2)
    assert "international law" in follow or "pass" in follow, follow
    page.screenshot(path=str(ARTIFACTS / "chat-2-follow-up.png"), full_page=True)

    evil = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> Who is Zinoviev?'
    ask(page, evil, 3)
    assert page.evaluate("typeof window.__xss") == "undefined"
    users = page.locator('#qa-chat [data-testid="user"]')
    assert users.nth(2).inner_text().strip() == evil
    assert page.locator("#qa-chat script, #qa-chat img[src=x]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "chat-3-markup-as-text.png"), full_page=True)

    page.click("#qa-clear")
    page.wait_for_function("document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length === 0")
    assert "Sources of the latest answer" in sources.inner_text()
