"""The audit page: every recorded change, filtered by user and date (pharmacists, auditors)."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.roles import Role, has_role
from history import selectors

PAGE_SIZE = 50
AUDITORS = (Role.PHARMACIST, Role.VIEWER)


class AuditFilter(forms.Form):
    user = forms.ModelChoiceField(
        get_user_model().objects.order_by("username"),
        required=False,
        empty_label=gettext_lazy("Anyone"),
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", gettext_lazy("Must not be before From."))
        return data


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@login_required
def audit(request):
    if not has_role(request.user, *AUDITORS):
        raise PermissionDenied(_("The audit trail is for pharmacists and auditors."))
    form = AuditFilter(request.GET or None)
    enabled = selectors.enabled()
    page_obj, entries = None, []
    if enabled and (not form.is_bound or form.is_valid()):
        data = form.cleaned_data if form.is_bound else {}
        user, start, end = data.get("user"), data.get("start"), data.get("end")
        events = selectors.audit_events(
            user_id=user.pk if user else None,
            start=_day_start(start) if start else None,
            end=_day_start(end + dt.timedelta(days=1)) if end else None,
        )
        page_obj = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        entries = selectors.entries(page_obj.object_list)
    return render(
        request,
        "history/audit.html",
        {
            "form": form,
            "enabled": enabled,
            "entries": entries,
            "page_obj": page_obj,
        },
    )
