"""The service's log: one JSON object per line (or plain text for a terminal), each line carrying
the id of the request it was written for.

Configured through uvicorn's `log_config` so that every worker process applies it, for the
service's own loggers and uvicorn's alike. Records never carry headers, query strings or
bodies: the access line has the method, the path, the route, the status and the duration.
"""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Literal

LogFormat = Literal["json", "text"]

# The id of the request being handled; copied into worker threads and background jobs with
# the context, None outside any request (start-up, the index watcher).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Structured fields a record may carry (`extra=`); nothing else of a record reaches the log.
FIELDS = ("method", "path", "route", "status", "duration_ms", "client", "job_id", "job_kind", "index_version")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, request id, message on one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.request_id = getattr(record, "request_id", None) or "-"
        # A path or message with a line break must not forge a second log line.
        return super().formatMessage(record).rstrip("\n").replace("\n", "\\n").replace("\r", "\\r")


def stderr_handler() -> logging.Handler:
    """The process's one log handler; Python warnings are routed through it too."""
    logging.captureWarnings(True)
    return logging.StreamHandler(sys.stderr)


def logging_config(log_format: LogFormat = "json", level: str = "info") -> dict:
    """A `logging.config.dictConfig` dictionary for the service (given to uvicorn)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "default": {"()": stderr_handler, "formatter": log_format, "filters": ["request_id"]},
        },
        # Libraries only say something when it matters; the service and uvicorn say what they do.
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "huashu": {"level": level},
            "uvicorn": {"level": level},
            # The service writes its own access line (huashu.access): with the request id and
            # the duration, without the query string.
            "uvicorn.access": {"level": "WARNING"},
        },
    }
