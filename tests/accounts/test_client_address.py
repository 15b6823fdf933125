"""Who a request comes from, as the login throttle and the API rate limit count it: the address that connected,
unless that is a proxy the operator trusts (TRUSTED_PROXIES), which then says in X-Forwarded-For whom it forwards.

Over real HTTP to the server as operators run it (`python -m backend serve`): uvicorn's own handling of forwarded
headers is part of what is tested.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import LoginAttempt
from backend.client_address import forwarded_client
from backend.config import Settings
from tests.app_process import ServerProcess, suite_environment

pytestmark = [pytest.mark.one_database]

FAILURES_PER_ADDRESS = 3
REQUESTS_PER_MINUTE = 4
NUMBER = "0812-3456-7890"


@pytest.fixture
def start_server(settings: Settings, tmp_path: Path) -> Iterator[object]:
    servers: list[ServerProcess] = []

    def start(**variables: str) -> ServerProcess:
        server = ServerProcess(
            log_dir=tmp_path,
            environment=suite_environment(
                settings,
                LOGIN_FAILURES_PER_IP=str(FAILURES_PER_ADDRESS),
                LOGIN_FAILURES_PER_ACCOUNT="100",
                **variables,
            ),
        )
        servers.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def login_page(page: httpx.Response) -> str:
    """The CSRF token of the login form."""
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def wrong_password(client: httpx.Client | httpx.AsyncClient, token: str, forwarded_for: str) -> Any:
    return client.post(
        "/login",
        data={"phone": NUMBER, "password": "bukan-sandinya", "_csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_a_made_up_forwarded_address_does_not_reset_the_login_throttle(start_server, database):
    server = start_server()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        token = login_page(client.get("/login"))
        answers = [
            wrong_password(client, token, f"198.51.100.{attempt}").status_code
            for attempt in range(1, FAILURES_PER_ADDRESS + 2)
        ]

    assert answers == [401] * FAILURES_PER_ADDRESS + [429], server.log()


def test_a_made_up_forwarded_address_does_not_reset_the_api_rate_limit(start_server, database):
    server = start_server(API_RATE_LIMIT_PER_MINUTE=str(REQUESTS_PER_MINUTE))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answers = [
            client.get("/api/v1/zones", headers={"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(1, REQUESTS_PER_MINUTE + 2)
        ]

    assert [answer.status_code for answer in answers] == [200] * REQUESTS_PER_MINUTE + [429], server.log()
    assert answers[-1].headers["content-type"].startswith("application/problem+json")


async def test_behind_a_trusted_proxy_the_address_it_forwards_is_counted(start_server, database):
    server = start_server(TRUSTED_PROXIES="127.0.0.1", API_RATE_LIMIT_PER_MINUTE=str(REQUESTS_PER_MINUTE))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        token = login_page(await client.get("/login"))
        # The proxy appends the address that connected to it; what the client itself sent stays on the left.
        from_one_buyer = [
            (await wrong_password(client, token, f"10.9.9.{attempt}, 203.0.113.7")).status_code
            for attempt in range(FAILURES_PER_ADDRESS + 1)
        ]
        from_another = (await wrong_password(client, token, "203.0.113.8")).status_code
        # Each forwarded address has its own API budget.
        api_answers = [
            await client.get("/api/v1/zones", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(20, 20 + REQUESTS_PER_MINUTE + 2)
        ]

    assert from_one_buyer == [401] * FAILURES_PER_ADDRESS + [429], server.log()
    assert from_another == 401
    assert {answer.status_code for answer in api_answers} == {200}
    async with database.sessionmaker() as session:
        addresses = (await session.execute(select(col(LoginAttempt.ip_address)))).scalars().all()
    assert sorted(set(addresses)) == ["203.0.113.7", "203.0.113.8"]


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Connected directly: whatever the header says.
        ("198.51.100.4", ["203.0.113.7"], "198.51.100.4"),
        # Through one proxy, then two; what the client sent itself stays on the left and is ignored.
        ("10.0.0.2", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.2", ["1.2.3.4, 203.0.113.7, 10.0.0.9"], "203.0.113.7"),
        ("10.0.0.2", ["1.2.3.4", "203.0.113.7"], "203.0.113.7"),
        # Ports, IPv6.
        ("10.0.0.2", ["203.0.113.7:51234"], "203.0.113.7"),
        ("2001:db8::5", ["[2001:db8:1::9]:443, 2400:cb00::1"], "2400:cb00::1"),
        # A proxy with nothing to say, or calling the app itself.
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.7"], "10.0.0.7"),
        # What no proxy would write cannot be checked: the proxy that passed it on is counted.
        ("10.0.0.2", ["unknown"], "10.0.0.2"),
        ("10.0.0.2", ["bukan-alamat, 10.0.0.3"], "10.0.0.3"),
    ],
)
def test_the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy(peer, forwarded_for, client):
    assert forwarded_client(peer, forwarded_for, PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_read():
    assert forwarded_client("127.0.0.1", ["203.0.113.7"], ()) == "127.0.0.1"
