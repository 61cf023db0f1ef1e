"""Who may open the stock and cold-chain pages, and who may post to them."""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed

from config.roles import ALL_ROLES, Role, user_roles

PHARMACY = frozenset({Role.PHARMACIST})
AT_THE_BEDSIDE = frozenset({Role.PHARMACIST, Role.NURSE})


def page(*, post: Iterable[str] = ()):
    """Signed-in users holding any role read (GET); only the `post` roles may POST (else 403).

    The view may narrow further per action (e.g. which of a lot's forms a nurse may send).
    """
    post_roles = frozenset(post)

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            roles = user_roles(request.user) & ALL_ROLES  # a sensor gateway opens no page
            if not roles:
                raise PermissionDenied("Your account has no role yet.")
            if request.method == "POST":
                if not roles & post_roles:
                    raise PermissionDenied("Your role does not allow this action.")
            elif request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["GET", "POST"] if post_roles else ["GET"])
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def may(request, roles: Iterable[str]) -> bool:
    return bool(user_roles(request.user) & frozenset(roles))
