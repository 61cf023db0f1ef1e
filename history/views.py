"""The audit page: every recorded change, filtered by user and date (pharmacists, auditors)."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from config.access import page
from config.roles import AUDITORS
from history import selectors

PAGE_SIZE = 50


class AuditFilter(forms.Form):
    user = forms.ModelChoiceField(
        get_user_model().objects.order_by("username"),
        required=False,
        empty_label=gettext_lazy("Anyone"),
        label=gettext_lazy("User"),
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


@page(read=AUDITORS)  # a read-only page: POST is refused (403) like any page without writers
def audit(request):
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
