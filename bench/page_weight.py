"""First-visit weight: compressed bytes of HTML + CSS + JS and the number of requests, per page.

Run by hand: `.venv/bin/python bench/page_weight.py`. It starts the app on a throwaway SQLite database with
the demo data, fetches each page as a phone's first visit would (a current browser's `Accept-Encoding: br, gzip`,
nothing cached), follows the stylesheets and scripts the page links, and prints the totals. Photos are not counted,
nor are headers (bodies only, as they came over the wire). `--gzip` accepts gzip only, as before brotli.

For the pages that carry an ETag (a visitor's catalogue, product and vendor pages) it also prints what looking at
the page again costs: the browser revalidates its copy (If-None-Match) and the static files come from its cache
(fingerprinted, a year).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BUDGET_BYTES = 30 * 1024
BUDGET_REQUESTS = 8
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')
PAGES = [
    ("landing", None, "/"),
    ("product page, visitor", None, "/products/1"),
    ("vendor page, visitor", None, "/vendors/1"),
    ("login", None, "/login"),
    ("vendor home", "081500000001", "/vendor"),
    ("vendor products", "081500000001", "/vendor/products"),
    ("manager home", "081200000001", "/manager"),
    ("catalogue", None, "/catalogue"),
    ("catalogue search", "081300000001", "/catalogue?q=nasi+box&halal=1"),
    ("product page", "081300000001", "/products/1"),
    ("vendor page", "081400000001", "/vendors/1"),
    ("canteen's orders", "081300000001", "/orders"),
    ("canteen's order", "081300000001", "/orders/1"),
    ("vendor's order board", "081500000001", "/vendor/orders"),
    ("vendor's order", "081500000001", "/vendor/orders/1"),
    ("inbox", "081500000001", "/inbox"),
    ("cart", "081300000001", "/cart"),
    ("vendor's sales report", "081500000001", "/vendor/reports"),
    ("zone dashboard", "081200000001", "/manager/dashboard"),
    ("canteen's invoices", "081300000001", "/canteen/invoices"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "MEDIA_DIR": str(workdir / "media"),
        "PASSWORD_HASH_PROFILE": "fast",
    }
    for command in (["migrate"], ["load-demo"]):
        subprocess.run([sys.executable, "-m", "backend", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.asgi:app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def measure(client: httpx.Client, path: str) -> tuple[int, int, list[str]]:
    page = client.get(path)
    page.raise_for_status()
    rows = [f"    {path:<45} {page.num_bytes_downloaded:>7} B  {page.headers.get('content-encoding', '-')}"]
    if "etag" in page.headers:
        rows.append(f"    {'looked at again':<45} {look_again(client, path)}")
    total, requests = page.num_bytes_downloaded, 1
    for asset in ASSET.findall(page.text):
        response = client.get(asset)
        total += response.num_bytes_downloaded
        requests += 1
        rows.append(
            f"    {asset.split('?')[0]:<45} {response.num_bytes_downloaded:>7} B  "
            f"{response.headers.get('content-encoding', '-')}"
        )
    return total, requests, rows


def look_again(client: httpx.Client, path: str) -> str:
    """The page seen once more with the browser's cookie (its first answer set it: the tag is bound to it), then
    revalidated as a browser does with its copy."""
    seen = client.get(path)
    again = client.get(path, headers={"If-None-Match": seen.headers["etag"]})
    return f"{again.num_bytes_downloaded:>7} B  {again.status_code}, static files from the cache"


def log_in(client: httpx.Client, phone: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
    assert token is not None, "the login page has no CSRF token"
    client.post("/login", data={"phone": phone, "password": "pasar-demo-2026", "_csrf_token": token.group(1)})


def main() -> None:
    accept = "gzip" if "--gzip" in sys.argv[1:] else "br, gzip"
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(Path(tmp))
        try:
            print(
                f"first visit, Accept-Encoding: {accept}, HTML+CSS+JS (budget {BUDGET_BYTES} B in {BUDGET_REQUESTS} requests)"
            )
            for name, phone, path in PAGES:
                with httpx.Client(base_url=base, headers={"Accept-Encoding": accept}) as client:
                    if phone:
                        log_in(client, phone)
                    total, requests, rows = measure(client, path)
                verdict = "ok" if total <= BUDGET_BYTES and requests <= BUDGET_REQUESTS else "OVER BUDGET"
                print(f"{name:<22} {total:>7} B in {requests} requests  {verdict}")
                print("\n".join(rows))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
