"""The Alerts page: the notification log for pharmacists and viewers; pharmacists re-send.

Same rule as the API (`NotificationViewSet`): pharmacists and viewers read, only pharmacists
re-send; nurses and physicians get 403 (and no menu entry, see config/context_processors.py).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.access import page
from config.forms import service_errors_to_form
from config.i18n import remember_language
from config.roles import ALL_ROLES, AUDITORS, PHARMACY, has_role
from notifications import rendering, services
from notifications.filters import NotificationFilter
from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.selectors import notification_list
from notifications.services import notification_resend

PAGE_SIZE = 50
FILTER_NAMES = ("kind", "status", "created_from", "created_to")


def _chosen(query):
    """The query without empty values: the form's "All kinds" sends kind= (not a choice)."""
    data = query.copy()
    for name in list(data):
        values = [value for value in data.getlist(name) if value]
        if values:
            data.setlist(name, values)
        else:
            del data[name]
    return data


def _subject_shown(row: Notification) -> str:
    """The row's subject in the page's language, rendered from its stored context as the sender
    renders each recipient's copy; the stored subject (the site's language) is the record."""
    return rendering.subject_render(
        template=row.template,
        context=row.context,
        subject=row.subject,
        language=translation.get_language(),
    )


@require_GET
@page(read=AUDITORS)
def alerts(request):
    filters = NotificationFilter(_chosen(request.GET), queryset=notification_list())
    rows = filters.qs if filters.is_valid() else notification_list().none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.subject_shown = _subject_shown(row)
    return render(
        request,
        "notifications/alerts.html",
        {
            "filters": filters,
            "page": page,
            "failed_count": Notification.objects.filter(status=NotificationStatus.FAILED).count(),
            "can_resend": has_role(request.user, *PHARMACY),
            "kinds": NotificationKind.choices,
            "statuses": NotificationStatus.choices,
            "chosen": {name: request.GET.get(name, "") for name in FILTER_NAMES},
        },
    )


@require_POST
@page(write=PHARMACY)
def alert_resend(request, pk: int):
    notification = get_object_or_404(Notification.objects.defer("body_text", "body_html"), pk=pk)
    try:
        notification_resend(notification=notification, user=request.user)
    except ValidationError as error:
        messages.error(
            request, _("Not re-sent: %(reasons)s") % {"reasons": " ".join(error.messages)}
        )
    else:
        messages.success(
            request, _("Queued again: %(subject)s") % {"subject": _subject_shown(notification)}
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("alerts")
    return redirect(back)


@csrf_exempt  # RFC 8058: the mail provider POSTs without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request, token: str):
    """One-click digest opt-out from the e-mail, no sign-in. GET asks (link checkers and previews
    fetch links: a GET must change nothing); POST — the button, or the mail client's RFC 8058
    one-click request — opts the address out."""
    address = services.digest_unsubscribe_address(token)
    if address is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        services.digest_unsubscribe(address=address)
    return render(request, "notifications/unsubscribe.html", {"address": address, "done": done})


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("The browser's language"))] + list(settings.LANGUAGES),
        help_text=gettext_lazy("Pages and the e-mails you receive."),
    )
    receive_digests = forms.BooleanField(
        label=gettext_lazy("Send me the morning ward digest"),
        required=False,
        help_text=gettext_lazy("Dose reminders and alerts that need action always arrive."),
    )


@require_http_methods(["GET", "POST"])
@page(write=ALL_ROLES)
def preferences(request):
    """The signed-in user's settings: language and digests."""
    preference = getattr(request.user, "notification_preference", None)
    initial = {
        "language": preference.language if preference else "",
        "receive_digests": preference.receive_digests if preference else True,
    }
    form = PreferenceForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        try:
            saved = services.notification_preference_save(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            remember_language(request, saved.language)
            with translation.override(saved.language or translation.get_language()):
                messages.success(request, _("Settings saved."))
            return redirect("preferences")
    return render(request, "notifications/preferences.html", {"form": form})
