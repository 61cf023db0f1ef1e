"""Who may open or post to a page: signed in, with a role; writes for the roles a page names."""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from config.roles import ALL_ROLES, user_roles

SAFE_METHODS = ("GET", "HEAD")


def page(*, write: Iterable[str] = (), read: Iterable[str] | None = None):
    """A signed-in page: GET for `read` roles (default every role), POST for `write` roles only.

    A user without a role, or posting without a write role (a viewer, always), gets 403.
    """
    write_roles = frozenset(write)
    read_roles = ALL_ROLES if read is None else frozenset(read)

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            allowed = read_roles if request.method in SAFE_METHODS else write_roles
            if not user_roles(request.user) & allowed:
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def can(user, roles: Iterable[str]) -> bool:
    return bool(user_roles(user) & set(roles))
