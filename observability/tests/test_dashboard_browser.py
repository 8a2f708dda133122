"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): sign in, watch a decision
arrive live without a reload, and see every chart page drawn from its endpoint. No request leaves the machine.

One browser for the module; each test has its own context (cookies) and page. The server is the project's
ASGI app under uvicorn (`dashboard_server`), so the websocket is the real one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from playwright.async_api import Browser, Page, Request, Route, WebSocket, async_playwright
from redis.asyncio import Redis

from bots.adapters.local import LocalAdapter
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.tests.hostkit import FAST, make_disposition, make_persona, reply_json
from bots.models import Bot
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision, SubagentRun
from dispositions.services import reception_record
from dispositions.tests.factories import make_decision
from gateway.choices import Purpose
from gateway.models import BudgetEnvelope
from gateway.tests.factories import BudgetEnvelopeFactory, UsageEventFactory
from observability.dashboard.pages import PAGES
from reactor.choices import TriggerStatus
from reactor.models import Trigger
from tests.redis_keys import redis_key_prefix

# The browser and the test share one event loop for the module (the browser is started once).
pytestmark = pytest.mark.asyncio(loop_scope="module")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
PASSWORD = "staff-pass-123"


def chromium_path() -> str:
    """Debian's chromium (DIT_CHROMIUM overrides); `scripts/dev.py test` installs it where it can."""
    path = os.environ.get("DIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise RuntimeError(f"No chromium at {path}: run `apt-get install -y chromium` (or set DIT_CHROMIUM)")
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        yield launched
        await launched.close()


@dataclass
class Traffic:
    """Every request the page made, and those refused for leaving the machine."""

    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)


@pytest_asyncio.fixture(loop_scope="module")
async def traffic() -> Traffic:
    return Traffic()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, dashboard_server: str, traffic: Traffic) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=dashboard_server)

    async def only_this_machine(route: Route, request: Request) -> None:
        traffic.requests.append(request.url)
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            traffic.outside.append(request.url)
            await route.abort()

    def socket_opened(socket: WebSocket) -> None:
        traffic.sockets.append(socket.url)

    await context.route("**/*", only_this_machine)
    opened = await context.new_page()
    opened.on("websocket", socket_opened)
    yield opened
    await context.close()
    # The ORM calls this test made ran on asgiref's thread: close its connection, or the test database stays busy.
    await sync_to_async(connections.close_all)()
    # Every test: nothing left the machine, and the page really talked to the server.
    assert traffic.outside == []
    assert traffic.requests
    assert all(urlsplit(url).hostname in LOCAL_HOSTS for url in traffic.sockets)


@pytest.fixture
def live_group(settings: Any) -> str:
    """A group of this test's own: other test runs on the same Redis publish to theirs."""
    settings.DASHBOARD_LIVE_GROUP = f"dashboard.test.{uuid.uuid4().hex[:12]}"
    return str(settings.DASHBOARD_LIVE_GROUP)


async def sign_in(page: Page, next_path: str) -> None:
    await sync_to_async(get_user_model().objects.create_user)("moderator", "m@example.com", PASSWORD, is_staff=True)
    await page.goto(f"/admin/login/?next={next_path}")
    await page.fill("#id_username", "moderator")
    await page.fill("#id_password", PASSWORD)
    async with page.expect_navigation():
        await page.click("input[type=submit]")
    assert urlsplit(page.url).path == next_path


async def test_a_new_decision_appears_on_the_live_page_without_a_reload(
    page: Page, traffic: Traffic, gateway_on_openai_server: Any, live_group: str
) -> None:
    await sign_in(page, "/dashboard/")
    await page.wait_for_selector("#live-status[data-state=open]", timeout=15000)
    # A marker on the window: a reload would lose it.
    await page.evaluate("window.notReloaded = true")

    def build() -> tuple[Bot, int]:
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return Bot.objects.create(slug=f"bot-{uuid.uuid4().hex[:8]}", name="Dit"), persona.pk

    bot, persona_id = await sync_to_async(build)()
    adapter = LocalAdapter(bot_name="dit")
    redis = Redis.from_url(settings.REDIS_URL)
    with redis_key_prefix("test_host") as prefix:
        host = Host(
            bot=HostBot(bot_id=bot.pk, slug=bot.slug, name=bot.name, persona_id=persona_id),
            config=HostConfig.build(**{**FAST, "router_off_axis_rate": 0.0}),
            adapter=adapter,
            redis=redis,
            redis_prefix=prefix,
        )
        await host.prepare()
        await adapter.start(host)
        try:
            gateway_on_openai_server.queue_reply(reply_json("hello from the live test"))
            await adapter.post("general", "alice", "@dit are you there?")
            await host.idle()
        finally:
            await host.drain(0)
            await adapter.stop()
            await redis.aclose()
    decision = await DispositionDecision.objects.aget(bot_id=bot.pk)

    row = page.locator(f"#decision-{decision.pk}")
    await row.wait_for(timeout=15000)
    await page.wait_for_selector(f"#decision-{decision.pk}[data-finished=true]", timeout=15000)
    assert await row.locator(".disposition").inner_text() == "quick-react"
    assert await row.locator(".beats").inner_text() == "1"
    assert await row.locator(".cost").inner_text() == str(decision.cost_usd)
    assert decision.channel_id in await row.inner_text()
    assert await page.evaluate("window.notReloaded") is True
    assert [url for url in traffic.sockets if url.endswith("/ws/dashboard/decisions/")]


def seed_every_chart() -> None:
    """At least one row behind every chart."""
    persona = make_persona()
    make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
    for seed in (1, 2):
        decision = make_decision(persona=persona, seed=seed)
    SubagentRun.objects.create(decision=decision, persona="comedian", ignored=False, uptake=0.6)
    DispositionDecision.objects.filter(pk=decision.pk).update(beat_count=1)
    reception_record(decision_id=decision.pk, kind="reaction", key="reaction:1", message_id="m", at=timezone.now())
    UsageEventFactory(purpose=Purpose.SYNTH_MID, guild_id="g-1", cost_usd=Decimal("0.25"))
    UsageEventFactory(purpose=Purpose.EMBED, guild_id="g-2", cost_usd=Decimal("0.05"))
    BudgetEnvelopeFactory(guild_id="g-1", period_start=timezone.now() - timedelta(hours=2))
    BudgetEnvelope.objects.filter(guild_id="g-1").update(spent_usd=Decimal("2.5"))
    Trigger.objects.create(kind="bots.followup", status=TriggerStatus.DONE)
    Trigger.objects.create(kind="bots.followup", status=TriggerStatus.DEAD, last_error="model down")


CANVAS_INKED = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) inked++; }
    return inked;
}"""


async def test_every_chart_page_draws_each_chart_from_its_endpoint(page: Page) -> None:
    await sync_to_async(seed_every_chart)()
    answers: dict[str, Any] = {}

    async def keep_answer(response: Any) -> None:
        path = urlsplit(response.url).path
        if path.startswith("/api/dashboard/") and response.status == 200:
            answers[path] = await response.json()

    page.on("response", keep_answer)
    await sign_in(page, f"/dashboard/{PAGES[0].slug}/")
    for dashboard_page in PAGES:
        await page.goto(f"/dashboard/{dashboard_page.slug}/")
        for chart in dashboard_page.charts:
            canvas = page.locator(f"#chart-{chart.slug} canvas")
            await page.wait_for_selector(f"#chart-{chart.slug} canvas[data-state=drawn]", timeout=15000)
            answer = answers[f"/api/dashboard/{chart.slug}/"]
            points = sum(len(series["data"]) for series in answer["datasets"])
            assert points > 0, chart.slug
            assert await canvas.get_attribute("data-points") == str(points)
            assert await canvas.evaluate(CANVAS_INKED) > 0, chart.slug
    dead_rows = page.locator("#chart-dead-letters table.dashboard-rows tbody tr")
    assert await dead_rows.count() == 1
    assert "model down" in await dead_rows.inner_text()
