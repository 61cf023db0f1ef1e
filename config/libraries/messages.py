"""Library strings marked for translation that no shipped catalogue translates into Ukrainian.

Our catalogue (LOCALE_PATHS) takes precedence over the apps' own, so a msgid translated there is
Ukrainian wherever the library uses it. But `makemessages` keeps only the msgids it finds in our
sources: these are listed here, with `gettext_noop` (marked, not translated at import), so that
the catalogue refreshed from the sources keeps them. Never imported; nothing calls these names.

If a library changes a msgid, its translation here no longer matches and the English shows:
tests/i18n/test_admin_libraries.py renders those admin pages in Ukrainian and fails on English.
"""

from django.utils.translation import gettext_noop

# django-axes 8 (axes/models.py, axes/admin.py): its models, fields, filters and fieldsets.
AXES = [
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
]

# Django 5.2's admin: newer wordings its Ukrainian catalogue has not caught up with (the first
# three head every app's table of models, read out by screen readers; the fourth is the add-user
# page's sentence, which replaced "First, enter a username and password…" in Django 5.1).
DJANGO_ADMIN = [
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
]
