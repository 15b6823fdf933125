"""`python -m backend serve` as deployed, with several workers: its log is JSON lines (uvicorn's own included)
when asked for, each request's lines carry the id its answer names, and /metrics adds up what every worker
counted, whichever worker the scraper reaches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.config import Settings
from tests.app_process import ServerProcess, suite_environment

pytestmark = [pytest.mark.one_database]

TOKEN = "metrics-token-for-the-tests-0123456789"
WORKERS = 2
ZONES = "/api/v1/zones"


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        log_dir=tmp_path,
        workers=WORKERS,
        environment=suite_environment(
            settings,
            LOG_FORMAT="json",
            METRICS_TOKEN=TOKEN,
            TRUSTED_PROXIES="127.0.0.1",
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        ),
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def requests_counted(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "pasar_http_request_duration_seconds_count" and sample.labels.get("route") == ZONES
    )


def test_json_lines_with_request_ids_and_metrics_summed_over_the_workers(server, database):
    answers: list[httpx.Response] = []
    # New connections each time, so both workers take some; until the log shows both did (or 200 requests).
    for number in range(200):
        answers.append(httpx.get(f"{server.url}{ZONES}", headers={"X-Forwarded-For": f"203.0.113.{number % 250}"}))
        processes = {
            line["process"]
            for line in map(json.loads, server.log().splitlines())
            if line["logger"] == "pasar_kawasan.access"
        }
        if len(processes) == WORKERS and len(answers) >= 10:
            break
    scrapes = [httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) for _ in range(6)]
    server.stop()

    lines = [json.loads(line) for line in server.log().splitlines()]  # every line is JSON, uvicorn's too
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    assert {answer.status_code for answer in answers} == {200}
    access = {line["request_id"]: line for line in lines if line["logger"] == "pasar_kawasan.access"}
    for number, answer in enumerate(answers):
        line = access[answer.headers["x-request-id"]]
        assert (line["path"], line["status"], line["client"]) == (ZONES, 200, f"203.0.113.{number % 250}")
    assert len({line["process"] for line in access.values()}) == WORKERS, "one worker took every request"
    # uvicorn's own access line is not written too: one line a request.
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    for scrape in scrapes:
        assert scrape.status_code == 200
        assert requests_counted(scrape.text) == len(answers)
