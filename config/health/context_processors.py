from django.utils.translation import gettext as _

from config.roles import Role, user_roles


def service_banner(request):
    """Pharmacists see when the worker or beat has gone quiet (no e-mails, no scans).

    One small query of the heartbeat rows, never a ping: pages must not wait on the broker."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    if Role.PHARMACIST not in roles:
        return {}
    from config.health.checks import heartbeat_age, heartbeats_read, stale_after

    beats = heartbeats_read()
    down = []
    beat_age, worker_age = heartbeat_age("beat", beats), heartbeat_age("worker", beats)
    if beat_age is None or beat_age > stale_after():
        down.append(_("the beat scheduler (no reminders, digests or alert scans are being queued)"))
    elif worker_age is None or worker_age > stale_after():
        down.append(_("the Celery worker (queued tasks and e-mails are not being processed)"))
    return {"service_down": down}
