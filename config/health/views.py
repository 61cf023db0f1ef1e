from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from config.health.checks import readiness


@never_cache
def healthz(request):
    """Liveness: this process answers. No database, no auth, no redirect (SECURE_REDIRECT_EXEMPT):
    a load balancer restarts or drains on this, and a database outage is not cured by restarting
    web processes."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Readiness: database, broker, a worker answering a ping, beat's last tick; 200 or 503."""
    report = readiness()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
