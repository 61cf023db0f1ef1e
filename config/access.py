"""Who may open or post to a page: signed in, with a role; POST only for the roles a page names.

The pages' counterpart of `config.api.RolePermission`; both read the role sets of
`config.roles`.
"""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.utils.translation import gettext as _

from config.roles import ALL_ROLES, user_roles

SAFE_METHODS = ("GET", "HEAD")


def page(*, write: Iterable[str] = (), read: Iterable[str] | None = None):
    """A signed-in page: GET for `read` roles (default every role), POST for `write` roles only.

    A user without a role, or posting without a write role (a viewer, always), gets 403; any
    other method 405. The view may narrow further per action (which of a lot's forms a nurse
    may send).
    """
    write_roles = frozenset(write)
    read_roles = ALL_ROLES if read is None else frozenset(read)

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in SAFE_METHODS:
                allowed = read_roles
            elif request.method == "POST":
                allowed = write_roles
            else:
                return HttpResponseNotAllowed(["GET", "POST"] if write_roles else ["GET"])
            if not user_roles(request.user) & allowed:
                raise PermissionDenied(_("Your role does not allow this."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
