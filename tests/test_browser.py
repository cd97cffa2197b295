"""The web chat in a real browser (Debian's Chromium through Playwright), at desktop width (1400 px)
and on a phone (390 × 844): the collection header and article list, one font, the empty-question
message, examples that ask, word-by-word streaming, a loading panel, clickable [n] markers, each
answer's own sources, timelines as lists, markup shown as text. Screenshots go to test-artifacts/
(git-ignored)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import app
from qa import webui
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]  # about 20 s on 2 idle cores

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
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
TIMELINE_QUESTION = "What happened between Russia and North Korea, in order?"

# Samples, at every painted frame, the last bot bubble's text and which sources the panel shows.
WATCH = """() => {
  window.__frames = [];
  const sample = () => {
    const bots = document.querySelectorAll('#qa-chat [data-testid="bot"]');
    const last = bots[bots.length - 1];
    const panel = document.querySelector('#qa-sources .qa-panel');
    const shown = panel ? [...panel.querySelectorAll('.qa-answer-sources')].filter(s => s.offsetParent) : [];
    window.__frames.push({bots: bots.length, text: last ? last.innerText : '',
                          panel: shown.map(s => s.id + (s.classList.contains('qa-loading') ? ':loading' : ''))});
    requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
}"""


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
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, app_url, viewport):
    page = browser.new_page(viewport=viewport)
    off_machine = []
    page.on("request", lambda r: None if r.url.startswith(app_url) else off_machine.append(r.url))
    page.goto(app_url)
    page.wait_for_selector("#qa-question textarea")
    page.wait_for_selector("#qa-collection .qa-summary")
    return page, off_machine


def _page_of_size(browser, app_url, size):
    page, off_machine = open_page(browser, app_url, size)
    yield page
    page.close()
    assert off_machine == [], f"the page asked for something not served by the app: {off_machine}"


@pytest.fixture
def desktop(browser, app_url):
    yield from _page_of_size(browser, app_url, DESKTOP)


@pytest.fixture
def phone(browser, app_url):
    yield from _page_of_size(browser, app_url, PHONE)


def wait_answer(page, turn: int) -> str:
    """Wait for answer number `turn` (1-based) to finish; return its text."""
    page.wait_for_function(
        """([n]) => {
            const bots = document.querySelectorAll('#qa-chat [data-testid="bot"]');
            return bots.length >= n && /Answered by|Could not answer/.test(bots[n - 1].innerText);
        }""",
        arg=[turn],
        timeout=ANSWER_TIMEOUT_MS,
    )
    return page.locator('#qa-chat [data-testid="bot"]').nth(turn - 1).inner_text()


def ask(page, question: str, turn: int) -> str:
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    return wait_answer(page, turn)


def shown_sections(page) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('#qa-sources .qa-answer-sources')].filter(s => s.offsetParent).map(s => s.id)"
    )


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        selector,
    )


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_desktop_chat(desktop):
    page = desktop
    # The header names the collection; the article list is one click away, every article titled.
    summary = page.locator("#qa-collection .qa-summary").inner_text()
    assert summary.startswith("5 articles, 29 Oct 2024"), summary
    page.click("#qa-collection summary")
    rows = page.locator("#qa-collection tbody tr")
    assert rows.count() == 5
    titles = [rows.nth(i).locator("td").first.inner_text() for i in range(5)]
    assert "South Korea voiced serious concern on Friday" in " ".join(titles), titles
    assert not any(t.endswith(".txt") for t in titles), titles
    # One font family throughout, and the bold words of a line no larger than the line.
    fonts = page.evaluate(
        """() => ['#qa-title h2', '#qa-ask', '#qa-collection .qa-summary', '#qa-collection strong',
                  '#qa-question textarea', '#qa-examples button']
                 .map(s => getComputedStyle(document.querySelector(s)).fontFamily)"""
    )
    assert len(set(fonts)) == 1, fonts
    sizes = page.evaluate(
        "['.qa-summary', '.qa-summary strong'].map(s => getComputedStyle(document.querySelector(s)).fontSize)"
    )
    assert sizes[0] == sizes[1], sizes
    page.screenshot(path=str(ARTIFACTS / "desktop-0-start-articles.png"), full_page=True)
    page.click("#qa-collection summary")

    # An empty or blank question gets a visible message and asks nothing.
    page.fill("#qa-question textarea", "   ")
    page.click("#qa-ask")
    toast = page.get_by_text(webui.EMPTY_QUESTION)
    toast.first.wait_for(state="visible", timeout=10_000)
    assert page.locator('#qa-chat [data-testid="bot"]').count() == 0
    page.wait_for_timeout(600)  # the toast slides in
    page.screenshot(path=str(ARTIFACTS / "desktop-1-empty-question.png"))
    page.click('[data-testid="toast-close"]')

    # Clicking an example asks it; the answer streams in word by word.
    page.evaluate(WATCH)
    page.locator("#qa-examples button", has_text="Which Russian ambassador").first.click()
    first = wait_answer(page, 1)
    assert "Zinoviev" in first and "[1]" in first and "Answered by offline" in first
    growing = [f["text"] for f in page.evaluate("window.__frames") if f["bots"] == 1 and "Answered" not in f["text"]]
    distinct = sorted(set(growing), key=len)
    assert len(distinct) >= 8, distinct  # "In response, South Korea summoned …": one step per word or so
    assert shown_sections(page) == ["qa-a0"]

    # A second answer: while it loads the panel shows a loading state, never answer 1's sources.
    page.evaluate(WATCH)
    follow = ask(page, "What did he say in response?", 2)
    assert "[1]" in follow, follow  # what it says is tests/test_app.py's concern; here, that it comes with sources
    during = [f["panel"] for f in page.evaluate("window.__frames") if f["bots"] == 2 and "Answered" not in f["text"]]
    assert during and all(p == ["qa-a1:loading"] for p in during), during
    assert shown_sections(page) == ["qa-a1"]

    # A timeline renders as a real list.
    ask(page, TIMELINE_QUESTION, 3)
    timeline = page.locator('#qa-chat [data-testid="bot"]').nth(2)
    assert timeline.locator("li").count() >= 3
    assert not any(line.startswith("- ") for line in timeline.inner_text().splitlines())
    timeline.locator("li").last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "desktop-2-timeline.png"), full_page=True)

    # [n] of an earlier answer: its own sources come back, scrolled to and highlighted.
    page.locator('#qa-chat [data-testid="bot"]').nth(0).locator("a.qa-ref", has_text="[1]").click()
    assert shown_sections(page) == ["qa-a0"]
    page.wait_for_function("() => document.querySelector('#qa-a0-c1').classList.contains('qa-target')")
    page.wait_for_function(
        """() => { const r = document.querySelector('#qa-a0-c1').getBoundingClientRect();
                   const p = document.querySelector('#qa-sources').getBoundingClientRect();
                   return r.top >= p.top - 1 && r.top < p.bottom && r.top >= 0 && r.top < innerHeight; }"""
    )
    assert "Zinoviev" in page.locator("#qa-a0-c1 mark").inner_text()
    page.screenshot(path=str(ARTIFACTS / "desktop-3-marker-of-answer-1.png"))
    # Clicking an answer (not a marker) shows that answer's sources.
    page.locator('#qa-chat [data-testid="bot"]').nth(1).click(position={"x": 20, "y": 10})
    assert shown_sections(page) == ["qa-a1"]
    page.locator('#qa-chat [data-testid="bot"]').nth(2).locator("a.qa-ref").nth(2).click()
    assert shown_sections(page) == ["qa-a2"]
    page.wait_for_function("() => document.querySelector('#qa-a2-c3').classList.contains('qa-target')")

    # Markup in a question is text, never run.
    evil = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> Who is Zinoviev?'
    ask(page, evil, 4)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('#qa-chat [data-testid="user"]').nth(3).inner_text().strip() == evil
    assert page.locator("#qa-chat script, #qa-chat img[src=x], #qa-sources script").count() == 0

    # A question about the whole collection: a dated, cited digest, one bullet per article.
    ask(page, "Summarize the articles", 5)
    overview = page.locator('#qa-chat [data-testid="bot"]').nth(4)
    assert overview.locator("li").count() >= 3
    assert overview.locator("a.qa-ref").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "desktop-4-overview.png"), full_page=True)

    page.click("#qa-clear")
    page.wait_for_function("document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length === 0")
    assert webui.EMPTY_PANEL[:40] in page.locator("#qa-sources").inner_text()


def test_phone_layout(phone):
    page = phone
    height = PHONE["height"]
    # The empty chat does not fill the first screen: the box to ask in and the examples show too.
    assert box(page, "#qa-chat")["height"] < height / 3
    assert box(page, "#qa-question")["y"] + box(page, "#qa-question")["height"] < height
    assert box(page, "#qa-examples")["y"] < height
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "phone-0-start.png"))

    ask(page, "Which Russian ambassador did Seoul summon?", 1)
    ask(page, "How many North Korean troops were reported to be in Russia?", 2)
    # The cited passages follow the answer they belong to: right below the chat, above the examples.
    chat, sources, examples = box(page, "#qa-chat"), box(page, "#qa-sources"), box(page, "#qa-examples")
    assert chat["y"] + chat["height"] <= sources["y"] < chat["y"] + chat["height"] + height / 4
    assert sources["y"] + sources["height"] <= examples["y"]
    page.screenshot(path=str(ARTIFACTS / "phone-1-answer.png"))
    page.screenshot(path=str(ARTIFACTS / "phone-2-answer-full-page.png"), full_page=True)

    # A marker in the chat scrolls the page to its passage.
    page.locator('#qa-chat [data-testid="bot"]').nth(1).locator("a.qa-ref").first.click()
    page.wait_for_function(
        """() => { const r = document.querySelector('#qa-a1-c1').getBoundingClientRect();
                   return r.top >= 0 && r.top < innerHeight && r.height > 0; }"""
    )
    assert document_has_target(page, "#qa-a1-c1")
    page.screenshot(path=str(ARTIFACTS / "phone-3-marker.png"))


def document_has_target(page, selector: str) -> bool:
    return page.evaluate("(s) => document.querySelector(s).classList.contains('qa-target')", selector)
