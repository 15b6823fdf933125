"""Browser tests: the real app in a process of its own, driven by Debian's Chromium through Playwright.

The server is started once per test run (`python -m uvicorn backend.asgi:app`) on a migrated SQLite file
holding the demo data, the way a deployment runs it, with card payments on: its Stripe is the fake of
tests/payments (started once too), which serves the hosted payment page the browser is sent to and posts signed
webhook events back to the server. It does not use the `database_url` fixture
of tests/conftest.py, so these tests run once, whatever databases the rest of the suite is run against.

Why Playwright lives in a thread of its own: the sync API marks its private event loop as the running loop
of the thread it is used from, and leaves it so between calls. Used from pytest's main thread, every async
test that comes after (pytest-asyncio runs them on a session loop in that thread) would fail with "Cannot
run the event loop while another loop is running". So Playwright is started, used and stopped on a single
worker thread, and the browser tests themselves (plain `def` tests) run on that thread too
(see pytest_pyfunc_call below). The main thread never touches it.

Each test gets a fresh phone-sized browser context (no cookies, no service worker). Screenshots go to
test-artifacts/screenshots/<test name>-<step>.png.
"""

from __future__ import annotations

import inspect
import re
import shutil
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from backend.demo import DEMO_PASSWORD
from backend.payments.demo_stripe import DemoStripe
from backend.payments.demo_xendit import DemoXendit
from backend.phone import normalize_phone
from tests.app_process import ROOT, ServerProcess, app_environment, run_command

BROWSER_TESTS = Path(__file__).resolve().parent
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "screen": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
    "timezone_id": "Asia/Jakarta",
}
ACTION_TIMEOUT_MS = 10_000

STRIPE_SECRET_KEY = "sk_test_browser_pasar_kawasan"
STRIPE_PUBLISHABLE_KEY = "pk_test_browser_pasar_kawasan"
STRIPE_WEBHOOK_SECRET = "whsec_browser_pasar_kawasan_0123456789"
STRIPE_WEBHOOK_PATH = "/api/v1/stripe/webhook"
XENDIT_SECRET_KEY = "xnd_development_browser_pasar_kawasan"
XENDIT_CALLBACK_TOKEN = "browser-callback-token-pasar-kawasan"
XENDIT_CALLBACK_PATH = "/api/v1/xendit/callback"

T = TypeVar("T")
CALL_FAILED = pytest.StashKey[bool]()


# --- every test here is a browser test ------------------------------------------------------------------


def _is_browser_test(item: pytest.Item) -> bool:
    return BROWSER_TESTS in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this folder's.
    for item in items:
        if _is_browser_test(item):
            item.add_marker(pytest.mark.browser)
            # With several test processes, all of these go to one: they share one server and one demo database.
            item.add_marker(pytest.mark.xdist_group("browser"))
            if CHROMIUM is None:
                item.add_marker(
                    pytest.mark.skip(
                        reason="chromium is not installed (`apt-get install chromium`, or `make test` as root)"
                    )
                )


# --- the app, as a separate process --------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_stripe() -> Iterator[DemoStripe]:
    """Stripe for the live server: the API its SDK calls, and the hosted payment page its buyers are sent to."""
    fake = DemoStripe(hosted_pages=True).start()
    try:
        yield fake
    finally:
        fake.stop()


def _stripe_environment(fake: DemoStripe) -> dict[str, str]:
    return {
        "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": STRIPE_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url,
    }


@pytest.fixture(scope="session")
def browser_xendit() -> Iterator[DemoXendit]:
    """Xendit for the live server: the API its SDK calls; a test pays a QRIS code there, and the stand-in posts
    Xendit's callback to the server."""
    fake = DemoXendit(secret_key=XENDIT_SECRET_KEY).start()
    try:
        yield fake
    finally:
        fake.stop()


def _xendit_environment(fake: DemoXendit) -> dict[str, str]:
    return {
        "XENDIT_SECRET_KEY": XENDIT_SECRET_KEY,
        "XENDIT_CALLBACK_TOKEN": XENDIT_CALLBACK_TOKEN,
        "XENDIT_API_BASE": fake.url,
    }


@pytest.fixture(scope="session")
def live_server_process(
    tmp_path_factory: pytest.TempPathFactory, browser_stripe: DemoStripe, browser_xendit: DemoXendit
) -> Iterator[ServerProcess]:
    """The app served by uvicorn on a free port, on a fresh database holding the demo data, with card payments
    through the fake Stripe, QRIS and virtual accounts through the fake Xendit, and one-time codes printed to its
    log (OTP_SENDER=log)."""
    data_dir = tmp_path_factory.mktemp("browser")
    env = app_environment(
        DATABASE_URL=f"sqlite:///{data_dir / 'browser.db'}", MEDIA_DIR=str(data_dir / "media"), OTP_SENDER="log"
    )
    run_command(["backend", "migrate"], env)
    run_command(["backend", "load-demo"], env)
    server = ServerProcess(
        environment={**env, **_stripe_environment(browser_stripe), **_xendit_environment(browser_xendit)},
        log_dir=data_dir,
    )
    try:
        url = server.start()
        browser_stripe.send_webhooks_to(f"{url}{STRIPE_WEBHOOK_PATH}", STRIPE_WEBHOOK_SECRET)
        browser_xendit.deliver_to(f"{url}{XENDIT_CALLBACK_PATH}", XENDIT_CALLBACK_TOKEN)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server(live_server_process: ServerProcess) -> str:
    """Base URL of the live server."""
    return live_server_process.url


@pytest.fixture(scope="session")
def whatsapp_code(live_server_process: ServerProcess) -> Callable[[str], str]:
    """whatsapp_code(number) is the newest one-time code the server sent to the number (as people type it): the
    development sender prints it to the server's log, which stands in for the phone's WhatsApp here."""

    def read(number: str) -> str:
        pattern = re.compile(rf"one-time code for {re.escape(normalize_phone(number))}: (\d{{6}})")
        deadline = time.monotonic() + 10
        while not (codes := pattern.findall(live_server_process.log())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert codes, f"no code for {number} in the server's log"
        return str(codes[-1])

    return read


# --- Playwright, confined to one thread ------------------------------------------------------------------


class PlaywrightThread:
    """Runs callables on one long-lived worker thread, where the sync Playwright objects live."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")

    def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        __tracebackhide__ = True
        return self._executor.submit(function, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def playwright_thread() -> Iterator[PlaywrightThread]:
    thread = PlaywrightThread()
    yield thread
    thread.shutdown()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a test that uses the browser on the Playwright thread (only hooks for this folder come here)."""
    __tracebackhide__ = True
    runner = pyfuncitem.funcargs.get("playwright_thread")
    if not isinstance(runner, PlaywrightThread) or inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = inspect.signature(pyfuncitem.obj).parameters
    runner.run(pyfuncitem.obj, **{name: pyfuncitem.funcargs[name] for name in names})
    return True


@pytest.fixture(scope="session")
def browser(playwright_thread: PlaywrightThread) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    playwright = playwright_thread.run(lambda: sync_playwright().start())
    try:
        browser = playwright_thread.run(playwright.chromium.launch, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            playwright_thread.run(browser.close)
    finally:
        playwright_thread.run(playwright.stop)


@pytest.fixture
def context(browser: Any, live_server: str, playwright_thread: PlaywrightThread) -> Iterator[Any]:
    """A phone in Batang: 360 px wide, touch, Indonesian, Western Indonesian Time; no cookies yet."""

    def open_context() -> Any:
        context = browser.new_context(base_url=live_server, **PHONE)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return context

    context = playwright_thread.run(open_context)
    yield context
    playwright_thread.run(context.close)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
    call: pytest.CallInfo[None],
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def page(context: Any, playwright_thread: PlaywrightThread, request: pytest.FixtureRequest) -> Iterator[Any]:
    page = playwright_thread.run(context.new_page)
    yield page
    if request.node.stash.get(CALL_FAILED, False):
        # What the person saw when the test failed.
        playwright_thread.run(lambda: page.is_closed() or _save_screenshot(page, request.node.name, "failed"))


def phones_on(
    browser: Any, base_url: str, playwright_thread: PlaywrightThread, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """For a `phones` fixture: phone(javascript=True) hands a person a phone of their own (360 × 740, touch,
    Indonesian) on `base_url`; all are closed after the test, and a failed test leaves what each phone showed as
    <test>-failed-<n>.png."""
    opened: list[Any] = []

    def phone(*, javascript: bool = True) -> Any:
        context = browser.new_context(base_url=base_url, java_script_enabled=javascript, **PHONE)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        opened.append(context)
        return context.new_page()

    yield phone

    def close_all() -> None:
        failed = request.node.stash.get(CALL_FAILED, False)
        for number, context in enumerate(opened, start=1):
            if failed:
                for shown in context.pages:
                    _save_screenshot(shown, request.node.name, f"failed-{number}")
            context.close()

    playwright_thread.run(close_all)


def _save_screenshot(page: Any, test_name: str, step: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    file_name = re.sub(r"[^\w.-]+", "-", test_name).strip("-")
    path = SCREENSHOT_DIR / f"{file_name}-{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """screenshot("step") saves the whole page as test-artifacts/screenshots/<test name>-<step>.png;
    screenshot("step", on=other_page) another phone's page, for a test with several people.

    Call it from the test (it runs on the Playwright thread). A failed test also leaves <test name>-failed.png.
    """

    def take(step: str, on: Any = None) -> Path:
        return _save_screenshot(page if on is None else on, request.node.name, step)

    return take


# --- people ----------------------------------------------------------------------------------------------


def as_typed(phone: str) -> str:
    """081200000001 -> 0812-0000-0001, the way people here type their own number."""
    return f"{phone[:4]}-{phone[4:8]}-{phone[8:]}"


@pytest.fixture
def log_in() -> Callable[..., None]:
    """log_in(page, phone) opens /login and logs in the way a person does; it waits for the next page."""

    def log_in(page: Any, phone: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login")
        page.get_by_label("Nomor WhatsApp").press_sequentially(as_typed(phone))
        page.get_by_label("Kata sandi").press_sequentially(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Masuk").tap()

    return log_in
