"""The load bench's catalogue searches one at a time: how long each page spends in SQL and in all, and the worst.

Run by hand, after `bench/load.py` has seeded its database (10,000 vendors, 200,000 products):

    .venv/bin/python bench/search_mix.py
    .venv/bin/python bench/search_mix.py --worst 25 --searches 600

It draws 600 search addresses as `bench/load.py` draws them (words of every trade, whole or half
typed, some with a category, halal, a delivery day, another order or page 2), keeps each distinct one once, and
asks the app for each page in this process over ASGI, as an anonymous visitor at the zone. It prints the SQL
time (summed over the page's statements, timed around the driver's calls) and the whole page's time, p50 / p95 /
worst, the statements per page, and the slowest pages by SQL time. One page at a time: what a search costs
alone, which bounds what several workers can serve; other work on the machine shows in the figures (the load
average is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import load
from sqlalchemy import event
from sqlalchemy.engine import Engine


class StatementTimer:
    """The time the database driver spends in each statement, summed until reset."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0

    def _before(self, connection: Any, *args: Any) -> None:
        connection.info["bench_started"] = time.perf_counter()

    def _after(self, connection: Any, *args: Any) -> None:
        self.seconds += time.perf_counter() - connection.info.pop("bench_started")
        self.statements += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def measure(args: argparse.Namespace) -> None:
    os.environ.update(
        {
            "APP_ENV": "production",
            "DATABASE_URL": f"{args.postgres.rsplit('/', 1)[0]}/{args.database}",
            "SECRET_KEY": "bench-search-mix-secret-key-" + "x" * 32,
            "REDIS_URL": args.redis,
            "RUN_SCHEDULED_JOBS": "false",
            "LOG_LEVEL": "WARNING",
            "API_RATE_LIMIT_PER_MINUTE": "100000000",
            # Production sends sign-up codes by WhatsApp; nobody signs up here.
            "WHATSAPP_TOKEN": "bench-never-used",
            "WHATSAPP_PHONE_NUMBER_ID": "0",
            "WHATSAPP_OTP_TEMPLATE": "bench_never_used",
        }
    )
    from backend.app import create_app

    urls = list(dict.fromkeys(load.search_urls(random.Random(args.seed), count=args.searches)))
    timer = StatementTimer()
    app = create_app()
    results: list[tuple[float, float, int, str]] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly than httpx
        base_url="https://bench",
    ) as client:
        for warm in ("/catalogue", "/catalogue?q=nasi"):
            await client.get(warm)
        for url in urls:
            timer.reset()
            started = time.perf_counter()
            answer = await client.get(url)
            if answer.status_code != 200:
                raise SystemExit(f"{url}: {answer.status_code}")
            results.append((timer.seconds * 1000, (time.perf_counter() - started) * 1000, timer.statements, url))

    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} after")
    print(f"{len(results)} distinct search pages of the load bench's {args.searches}, one at a time, in-process")
    for label, values in (("SQL", [row[0] for row in results]), ("page", [row[1] for row in results])):
        print(
            f"  {label:5} p50 {percentile(values, 0.5):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms  "
            f"worst {max(values):7.1f} ms  mean {statistics.fmean(values):6.1f} ms"
        )
    statements = [row[2] for row in results]
    print(f"  statements per page: {min(statements)}-{max(statements)}, mean {statistics.fmean(statements):.1f}")
    print(f"slowest {args.worst} by SQL time:")
    for sql, page, count, url in sorted(results, reverse=True)[: args.worst]:
        print(f"  {sql:7.1f} ms SQL  {page:7.1f} ms page  {count} statements  {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=load.DEFAULT_SERVER, metavar="URL")
    parser.add_argument("--database", default=load.DEFAULT_DATABASE, help="the load bench's seeded database")
    parser.add_argument("--redis", default=load.DEFAULT_REDIS, metavar="URL")
    parser.add_argument("--searches", type=int, default=600, help="addresses drawn, as the load bench draws them")
    parser.add_argument("--seed", type=int, default=1, help="the load bench's driver seed")
    parser.add_argument("--worst", type=int, default=10)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
