"""Who, from which request and why: the context attached to every history event.

pghistory groups the events of one request under one context row (its id is the request id)
holding the user, the URL and, where the action has one, the reason. Services call `recording`
with the acting user and the reason, so the shell, Celery tasks and the admin record them too.

pghistory passes the context to PostgreSQL by prefixing statements with `set_config(...)`;
SQLite has no such function and no history triggers, so off PostgreSQL both are no-ops.
"""

import contextlib
import functools

import pghistory
from django.db import connection
from pghistory.middleware import HistoryMiddleware as _PghistoryMiddleware

from config.logging import request_id


def enabled() -> bool:
    """History is captured by PostgreSQL triggers: only there is anything recorded."""
    return connection.vendor == "postgresql"


def _user_id(user):
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def recording(*, user=None, reason: str = "", action: str = ""):
    """Attach the acting user, the action and its reason to the events written inside.

    Nested inside a request, this adds to the request's context (one context per request);
    alone (shell, task), it opens one.
    """
    if not enabled():
        return contextlib.nullcontext()
    metadata = {}
    if user is not None:
        metadata["user"] = _user_id(user)
    if reason:
        metadata["reason"] = reason
    if action:
        metadata["action"] = action
    return pghistory.context(**metadata)


class HistoryMiddleware(_PghistoryMiddleware):
    """pghistory's middleware with the request id (the one logged and echoed in X-Request-ID);
    a pass-through where there is no history."""

    def get_context(self, request):
        return {
            **super().get_context(request),
            "method": request.method,
            "request_id": request_id(),
        }

    def __call__(self, request):
        if not enabled():
            return self.get_response(request)
        return super().__call__(request)


def records(action: str, *, reason_arg: str = "reason"):
    """Decorate a service so the events it writes carry its action, acting `user` and reason.

    Reads the service's keyword arguments `user` and `reason_arg` (services here are
    keyword-only); one line at the service instead of a `with` block around its body.
    """

    def decorator(service):
        @functools.wraps(service)
        def wrapper(*args, **kwargs):
            reason = str(kwargs.get(reason_arg) or "").strip()
            with recording(user=kwargs.get("user"), reason=reason, action=action):
                return service(*args, **kwargs)

        return wrapper

    return decorator
