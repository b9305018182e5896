"""The service's error log: a client's mistake is one line, and no request value is ever logged.

BentoML logs every exception of an API handler with its traceback (logger
`bentoml._internal.server.http_app`, `log_exception`), a malformed JSON body included, and a
pydantic ValidationError's text carries the offending input values. `ClientErrorLine`
turns the records of client errors (a ValidationError: 400; a BentoML exception with a 4xx
status) into one WARNING line: status, method, path and the fields at fault with pydantic's
message, never their values. Server errors keep their traceback.
"""

from __future__ import annotations

import logging

from bentoml.exceptions import BentoMLException
from pydantic import ValidationError

BENTOML_HANDLER_LOGGER = "bentoml._internal.server.http_app"
"""The logger BentoML's API wrapper logs handler exceptions on."""
MAX_REASON_CHARS = 200
"""A client-error line's reason is cut here: a field name is the client's text, too."""
MAX_FIELDS = 3
"""Fields named in one line; the line counts the others."""


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(map(str, loc)) or "body"


def client_error(exc: BaseException) -> tuple[int, str] | None:
    """Status and reason of a client error, None for a server error.

    The reason names fields and pydantic's message (which states the rule, not the input).
    """
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_input=False, include_context=False, include_url=False)
        named = [f"{_field(error['loc'])}: {error['msg']}" for error in errors[:MAX_FIELDS]]
        more = f" (and {len(errors) - MAX_FIELDS} more)" if len(errors) > MAX_FIELDS else ""
        return 400, "; ".join(named) + more
    if isinstance(exc, BentoMLException) and 400 <= exc.error_code.value < 500:
        return exc.error_code.value, str(exc)
    return None


class ClientErrorLine(logging.Filter):
    """On BentoML's handler logger: a client error's record becomes one WARNING line.

    The record's arguments are BentoML's (path, method); its traceback is dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        found = None if exc is None else client_error(exc)
        if found is None:
            return True
        status, reason = found
        path, method = record.args if isinstance(record.args, tuple) else ("?", "?")
        record.msg = "client error %s on %s %s: %s"
        record.args = (status, method, path, reason[:MAX_REASON_CHARS])
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


def install_client_error_line() -> None:
    """Put ClientErrorLine on BentoML's handler logger (once per process)."""
    logger = logging.getLogger(BENTOML_HANDLER_LOGGER)
    if not any(isinstance(f, ClientErrorLine) for f in logger.filters):
        logger.addFilter(ClientErrorLine())
