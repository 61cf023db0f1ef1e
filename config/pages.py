"""Project-wide pages outside any app: the favicon and the error pages' 500 handler."""

from pathlib import Path

from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

FAVICON = (Path(__file__).resolve().parent / "static" / "pharmacy" / "favicon.ico").read_bytes()


@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; answer it (not a 404 in every log)."""
    return HttpResponse(FAVICON, content_type="image/x-icon")


def server_error(request):
    """500 with the page shell and navigation when the request still renders; Django's own
    handler renders without the request, so the page would lose the navigation. If rendering
    with the request fails too (the database may be why we are here), the page goes without."""
    template = loader.get_template("500.html")
    try:
        body = template.render({}, request)
    except Exception:  # noqa: BLE001 — the error page must not raise a second error
        body = template.render({})
    return HttpResponseServerError(body)
