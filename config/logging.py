"""Request ids and one log line per request.

Every request gets an id: the caller's `X-Request-ID` when it sends a sane one (a proxy or a ward
system tracing its own call), else a new one. It is echoed in the response header, put in API
error bodies (`error.request_id`), attached to every log line written while the request runs, and
carried in the headers of the tasks it queues, so a worker's lines can be matched to the request.

Log lines name methods, paths (without the query string: a search may hold a patient's name),
statuses, durations and ids — never a patient's name or MRN. `LOG_FORMAT=json` renders each line as
one JSON object (python-json-logger), for a log shipper.
"""

import contextvars
import logging
import re
import time
import uuid

from django.db import InterfaceError, OperationalError
from django.utils.functional import SimpleLazyObject, empty

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
logger = logging.getLogger("config.request")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_new(incoming: str | None = None) -> str:
    """The caller's id when it is short and plain (it is logged and echoed), else a new one."""
    if incoming and _SANE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def request_id() -> str:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the formatters name it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection (Django wraps the driver's errors in these two);
    not an integrity error or a bad query, which stay the bugs they are."""
    return isinstance(exc, (OperationalError, InterfaceError))


def _user_id(request) -> int | None:
    """The user's id if the request already loaded the user: never a query just to log it."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    """Outermost middleware: sets the request id, logs one line when the response is ready."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request_id_new(request.headers.get("X-Request-ID"))
        token = request_id_var.set(rid)
        request.request_id = rid
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            logger.info(
                "%s %s %s %sms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "event": "request",
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request, exception):
        """A page whose database connection died answers 503 (try again), not 500 (our bug).

        The API answers the same in its error shape (config.api.exception_handler)."""
        if not database_unavailable(exception):
            return None
        from django.http import HttpResponse

        logger.warning("database unavailable: %s", type(exception).__name__)
        return HttpResponse(
            "The service is briefly unavailable (database connection lost). Please try again.",
            status=503,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "5"},
        )
