"""The app's log lines: one JSON object a line in production (for a log collector), a readable line elsewhere, and
on every line written while a request is handled, that request's id (the one its answer carries in X-Request-ID).

The code logs through the standard library (`logging.getLogger("pasar_kawasan.<part>")`), as uvicorn, SQLAlchemy
and the job queue do; this module only decides how the lines look. litestar-fullstack wires structlog for the same
result, rendering the standard library's records through structlog's ProcessorFormatter: here a formatter of about
forty lines does it, without a second logging API beside the one every module already uses.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.config import Settings

# The request being handled by this task (None outside requests: start-up, scheduled jobs).
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# The attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON line.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# uvicorn's own copy of its message with terminal colours in it; ours for the readable lines' logger name.
_DROPPED_ATTRIBUTES = frozenset({"color_message", "request_id", "part"})


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (`record.request_id`, None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, process (which worker), message, request_id,
    the `extra` fields, and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in _DROPPED_ATTRIBUTES:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class ReadableLines(logging.Formatter):
    """`13:02:11 INFO    access  GET /catalogue 200 12.3 ms 127.0.0.1  [req 5f0c…]` for a developer's terminal (the
    app's loggers without their common `pasar_kawasan.` prefix)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(part)s  %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record.part = record.name.removeprefix("pasar_kawasan.")
        text = super().format(record)
        identifier = getattr(record, "request_id", None) or request_id.get()
        if identifier is None:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first}  [req {identifier}]{newline}{rest}"


def logging_config(settings: Settings) -> dict[str, Any]:
    """The `logging.config.dictConfig` of the app's processes, uvicorn's loggers included (`python -m backend
    serve` hands it to uvicorn, which applies it in its supervisor and in every worker).

    A line is formatted where it is logged (so it carries that task's request id) and written to stderr by a
    thread of its own, as Litestar's default does: a slow log collector never holds up the event loop."""
    formatter = "json" if settings.log_format == "json" else "readable"
    level = settings.log_level
    handlers: dict[str, dict[str, Any]]
    if sys.version_info >= (3, 12):
        # dictConfig builds the queue, its listener thread and the handler behind it by itself from 3.12.
        handlers = {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": formatter},
            "queued": {
                "class": "logging.handlers.QueueHandler",
                "queue": {"()": "queue.Queue", "maxsize": -1},
                "listener": "litestar.logging.standard.LoggingQueueListener",
                "handlers": ["stderr"],
                "filters": ["request_id"],
            },
        }
    else:
        # The queue's handler formats the record; its thread's own StreamHandler (stderr) writes the finished line.
        handlers = {
            "queued": {
                "class": "litestar.logging.standard.QueueListenerHandler",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonLines}, "readable": {"()": ReadableLines}},
        "handlers": handlers,
        "root": {"level": level, "handlers": ["queued"]},
        "loggers": {
            # uvicorn's own handlers go: its lines come through the root's, in the same format as the app's.
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            # The app writes its own access line (pasar_kawasan.access: the client as the app counts it, the
            # route, the time taken, the request id); uvicorn's would say the same thing twice.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Apply `logging_config(settings)` to this process."""
    logging.config.dictConfig(logging_config(settings))


sql_logger = logging.getLogger("pasar_kawasan.sql")


def log_sql_errors(engine: AsyncEngine) -> None:
    """A statement the database refused, or a connection that failed, is logged with the statement's text (never
    its values: they hold people's data), on the line of the request that sent it."""
    if not event.contains(engine.sync_engine, "handle_error", _log_sql_error):
        event.listen(engine.sync_engine, "handle_error", _log_sql_error)


def _log_sql_error(context: ExceptionContext) -> None:
    error = context.original_exception
    first_line = next(iter(str(error).strip().splitlines()), "")
    statement = " ".join((context.statement or "").split())[:500]
    sql_logger.warning("%s: %s | %s", type(error).__name__, first_line, statement)
