"""Today, kept current: the counters and every listed dose's status as JSON, polled by app.js
every 30 s, so two nurses on one ward see each other's recordings without reloading.

Read-only and small (no preparation, no lots): the page itself stays the source of everything
else, and without JavaScript it simply shows what was true when it was loaded.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from config.access import page
from courses.views.display import STATUS_LABELS, dose_status
from courses.views.today import _counters, _day_from, _page, listed_doses


@never_cache
@page()
def today_live(request):
    """GET ?date=&ward=&show=overdue&page= (the page's own query): {"as_of", "counters": [values
    in the page's order], "doses": {id: {"status", "label"}}, "listed": [the ids that page
    lists]}. A dose prescribed or re-planned onto the day after the page was loaded is in
    "listed" and not on the page (one moved away is on the page and not listed): app.js then
    fetches the page again for its rows."""
    user = request.user
    now = timezone.now()
    today = timezone.localdate()
    ward_code = request.GET.get("ward", "")
    doses = listed_doses(
        user,
        day=_day_from(request.GET.get("date"), today),
        ward_code=ward_code,
        overdue_only=request.GET.get("show") == "overdue",
        now=now,
    )
    statuses = {}
    for dose in doses.select_related("course"):
        status = dose_status(dose, now=now, today=today)
        statuses[str(dose.pk)] = {"status": status, "label": str(STATUS_LABELS.get(status, status))}
    listed = _page(request, doses.values_list("pk", flat=True), count=len(statuses))
    counters = _counters(user, today=today, now=now, ward_code=ward_code)
    return JsonResponse(
        {
            "as_of": now.isoformat(),
            "counters": [counter["value"] for counter in counters],
            "doses": statuses,
            "listed": list(listed),
        }
    )
