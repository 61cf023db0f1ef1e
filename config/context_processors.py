from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from config.roles import AUDITORS, PHARMACY, Role, user_roles

# Main navigation: (url name, label, roles that see it). Pages that are not installed yet
# (their URL name does not resolve) are left out.
NAV = [
    ("today", _("Today"), None),
    ("course-list", _("Courses"), None),
    ("patients", _("Patients"), None),
    ("stock", _("Stock"), None),
    ("cold-chain", _("Cold chain"), None),
    ("alerts", _("Alerts"), AUDITORS),
    ("audit", _("Audit"), AUDITORS),
    ("formulary", _("Formulary"), PHARMACY),
    ("admin:index", _("Admin"), PHARMACY),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    items = []
    for name, label, allowed in NAV:
        if allowed is not None and not roles & allowed:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "nav_items": items,
        # The list's filters without its page number, for pagination links (_pagination.html).
        "page_query": query.urlencode(),
        "user_role_labels": [Role(r).label for r in sorted(roles)],
        "user_roles": roles,
    }


# POST actions that only redisplay the form (load a protocol's fields, check a plan): nothing was
# meant to be saved, so nothing was refused.
REDISPLAY_ACTIONS = frozenset({"load", "check"})


def write_refused(request):
    """`write_refused`: this page answers a signed-in user's POST by rendering, not redirecting.

    Every page here saves and then redirects (post/redirect/get); a POST that renders a page was
    refused — by the form's validation or by a service (`config.forms.service_errors_to_form`) —
    and base.html says "Not saved" above the reasons.
    """
    user = getattr(request, "user", None)
    refused = (
        request.method == "POST"
        and user is not None
        and user.is_authenticated
        and request.POST.get("action", "") not in REDISPLAY_ACTIONS
    )
    return {"write_refused": refused}
