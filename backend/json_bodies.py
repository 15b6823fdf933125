"""JSON request bodies of the API, bounded before they are parsed.

The JSON decoder recurses once a level: a body of 100,000 nested arrays (200 KB) exhausts Python's stack and would
answer 500. No request of the API nests more than a few levels, so a body deeper than MAX_JSON_DEPTH is refused
with a 400 after a scan of its brackets, before it is decoded; and the API's routes read at most JSON_BODY_LIMIT
bytes (Litestar's request_max_body_size: refused with a 413 from the Content-Length, or as soon as a chunked body
passes it), so neither the scan nor the decoder ever sees a large body. Uploads name their own, larger limit.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from backend.errors import N_, DomainError

MAX_JSON_DEPTH = 32
# The largest JSON body of the API (a product with its description and tiers, a cart of many lines) is a few KB.
JSON_BODY_LIMIT = 256 * 1024

# A string (its brackets are text), or one bracket. Strings are matched whole, escapes included, in one pass.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPENING = frozenset(b"[{")


class JsonTooDeep(DomainError):
    status_code = 400
    code = "json_too_deep"
    default_message = N_("The JSON body is nested too deeply: at most %(max)s levels.")


def nested_deeper_than(body: bytes, max_depth: int) -> bool:
    """Whether the JSON text `body` opens more than `max_depth` arrays or objects inside each other. Malformed
    JSON is answered either way: this scan or the decoder refuses it."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # the common case, without looking further
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if len(token) != 1:
            continue  # a string
        if token[0] in _OPENING:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


class JsonBodyRequest(Request[Any, Any, Any]):
    """The API's request: its JSON body is checked for depth before it is decoded (the one place Litestar
    decodes a JSON body for a handler's `data`)."""

    async def json(self) -> Any:
        body = await self.body()
        if nested_deeper_than(body, MAX_JSON_DEPTH):
            raise JsonTooDeep(params={"max": MAX_JSON_DEPTH})
        return await super().json()
