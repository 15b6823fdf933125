"""Lighthouse scores of the pages people open most, on a phone, with what they cost to download.

Run by hand: `.venv/bin/python bench/lighthouse.py`. Needs Node.js 18.20+ and Debian's Chromium (CHROME_PATH,
/usr/bin/chromium by default). Lighthouse is pinned by bench/package-lock.json (the 12.x line: 13 needs
Node 22) and installed on first use with `npm ci --prefix bench`.

It starts the app on a throwaway SQLite database holding the demo data, logs in as the demo vendor over HTTP
for the order board's session cookie, and runs Lighthouse with its default form factor (a mid-range phone on
a slow 4G link, simulated) on each page. The table shows the performance, accessibility and best-practices
scores, and the bytes transferred for HTML + CSS + JS (photos and icons not counted) with the number of
requests of any kind.

Lighthouse simulates the slow phone from what it measures on this machine's CPU, so a busy machine lowers the
performance score: each page is run three times (`--runs N`) and the run with the median performance score is
shown, with Lighthouse's benchmark index of the machine (about 1000 or more on an idle laptop; well under that,
the performance figures are pessimistic).

bench/package.json overrides two packages Lighthouse's trace engine asks for as `latest`: a lock cannot keep a
dist-tag, and `npm ci` would refuse the lock once a newer version is published.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median_low

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LIGHTHOUSE = BENCH / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run --disable-quic"
)
CATEGORIES = ("performance", "accessibility", "best-practices")
COUNTED_TYPES = ("Document", "Stylesheet", "Script")
TARGET_SCORE = 95
BUDGET_BYTES = 60 * 1024
VENDOR = "081500000001"  # Catering Bu Sri, whose board has the demo's orders
DEMO_PASSWORD = "pasar-demo-2026"
SESSION_COOKIE = "pk_session"
PAGES = [
    ("catalogue", None, "/catalogue"),
    ("product page", None, "/products/1"),
    ("vendor's order board", VENDOR, "/vendor/orders"),
]
LIGHTHOUSE_SECONDS = 180


def install_lighthouse() -> None:
    if LIGHTHOUSE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is missing: install Node.js 18.20 or newer to run Lighthouse")
    print("installing Lighthouse (npm ci --prefix bench)", file=sys.stderr)
    subprocess.run([npm, "ci", "--prefix", str(BENCH), "--no-audit", "--no-fund", "--loglevel=error"], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The app as tests/browser/conftest.py starts it: uvicorn on a migrated SQLite file with the demo data."""
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "MEDIA_DIR": str(workdir / "media"),
        "PASSWORD_HASH_PROFILE": "fast",
    }
    for variable in ("REDIS_URL", "SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_BASE"):
        env.pop(variable, None)
    for command in (["migrate"], ["load-demo"]):
        subprocess.run([sys.executable, "-m", "backend", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start within 30 s")


def session_cookie(base: str, phone: str) -> str:
    """Logs in through the login form, as a browser would, and returns the session cookie's value."""
    with httpx.Client(base_url=base) as client:
        form = client.get("/login").text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
        if token is None:
            raise SystemExit("no CSRF token on /login")
        answer = client.post("/login", data={"phone": phone, "password": DEMO_PASSWORD, "_csrf_token": token.group(1)})
        value = answer.cookies.get(SESSION_COOKIE)
        if answer.status_code != 303 or not value:
            raise SystemExit(f"logging in as {phone} failed: {answer.status_code}")
        return value


def run_lighthouse(url: str, cookie: str | None) -> dict:
    command = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": f"{SESSION_COOKIE}={cookie}"}))
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=LIGHTHOUSE_SECONDS, check=False)
    if done.returncode != 0:
        raise SystemExit(f"Lighthouse failed on {url}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def figures(report: dict) -> dict:
    requests = report["audits"]["network-requests"]["details"]["items"]
    counted = [request for request in requests if request.get("resourceType") in COUNTED_TYPES]
    return {
        **{category: round(report["categories"][category]["score"] * 100) for category in CATEGORIES},
        "bytes": sum(request.get("transferSize", 0) for request in counted),
        "benchmark": round(report["environment"]["benchmarkIndex"]),
        "requests": len(requests),
        "flagged": [
            audit["title"]
            for audit in report["audits"].values()
            if audit.get("score") is not None
            and audit["score"] < 0.9
            and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        ],
    }


def median_run(url: str, cookie: str | None, runs: int) -> dict:
    """The figures of the run whose performance score is the median of `runs` runs."""
    results = [figures(run_lighthouse(url, cookie)) for _ in range(runs)]
    middle = median_low(result["performance"] for result in results)
    return next(result for result in results if result["performance"] == middle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs a page (the median is shown)")
    runs = parser.parse_args().runs
    install_lighthouse()
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(Path(tmp))
        try:
            cookies = {phone: session_cookie(base, phone) for _, phone, _ in PAGES if phone}
            rows = [
                (name, path, median_run(base + path, cookies.get(phone) if phone else None, runs))
                for name, phone, path in PAGES
            ]
        finally:
            server.terminate()
            server.wait(timeout=10)

    print(
        f"Lighthouse {report_version()}, mobile (simulated slow 4G), median of {runs} runs, "
        f"target {TARGET_SCORE}+ and HTML+CSS+JS under {BUDGET_BYTES // 1024} KB"
    )
    print(
        f"{'page':<22} {'path':<16} {'perf':>4} {'a11y':>4} {'b.p.':>4} {'HTML+CSS+JS':>12} {'requests':>8} "
        f"{'benchmark index':>15}"
    )
    for name, path, row in rows:
        print(
            f"{name:<22} {path:<16} {row['performance']:>4} {row['accessibility']:>4} "
            f"{row['best-practices']:>4} {row['bytes']:>10} B {row['requests']:>8} {row['benchmark']:>15}"
        )
    for name, _, row in rows:
        if row["flagged"]:
            print(f"{name}: flagged: {'; '.join(row['flagged'])}")
    short = [
        name
        for name, _, row in rows
        if min(row[category] for category in CATEGORIES) < TARGET_SCORE or row["bytes"] > BUDGET_BYTES
    ]
    if short:
        raise SystemExit(f"below target: {', '.join(short)}")


def report_version() -> str:
    package = json.loads((BENCH / "node_modules" / "lighthouse" / "package.json").read_text())
    return str(package["version"])


if __name__ == "__main__":
    main()
