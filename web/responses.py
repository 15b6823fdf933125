"""How a page handler answers: a page, a redirect after a form, or for htmx the fragment of the page to swap."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Response
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

PlainAnswer = TypeVar("PlainAnswer", bound=Response[Any])


def page(template_name: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name, context=context, status_code=status_code)


def see_other(path: str, **query: str) -> Redirect:
    """Post/Redirect/Get: a 303 so a reload does not submit the form again."""
    return Redirect(path, status_code=303, query_params=query or None)


def page_or_fragment(
    request: HTMXRequest, full: str | PlainAnswer, fragment: str, *, status_code: int = 200, **context: Any
) -> Template | PlainAnswer:
    """One URL, two readers: a browser gets the whole page (`full`: its template, or for a form the answer a
    plain browser needs, a redirect or the page again), htmx gets the `fragment` to swap, rendered from the same
    context.

    The fragment comes with 200 even for a refusal (`status_code` is the whole page's): htmx swaps only 2xx
    answers, and the message must replace what was there. A history restore (htmx lost its copy of the page)
    gets the whole page. Both answers vary with HX-Request, so no cache hands one out for the other.
    """
    answer: Template | PlainAnswer
    if wants_fragment(request):
        answer = page(fragment, **context)
    elif isinstance(full, str):
        answer = page(full, status_code=status_code, **context)
    else:
        answer = full
    return varies_with_htmx(answer)


def wants_fragment(request: HTMXRequest) -> bool:
    """htmx asks for a piece of the page; a history restore, like a plain browser, needs the whole page. A handler
    asks this itself only where its two answers need different things loaded (and marks them `varies_with_htmx`)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def varies_with_htmx(answer: PlainAnswer) -> PlainAnswer:
    """Mark an answer of a URL that answers htmx differently, so no cache hands out one for the other."""
    answer.headers["Vary"] = "HX-Request"
    return answer
