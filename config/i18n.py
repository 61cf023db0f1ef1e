"""The language of pages: a signed-in user's own choice, then Accept-Language, then LANGUAGE_CODE.

Django's LocaleMiddleware picks from the browser's Accept-Language (or LANGUAGE_CODE); this
middleware, after authentication, replaces that with the user's choice from the Settings page
(`NotificationPreference.language`, which e-mails to the user follow too). The choice is read
once per session, at sign-in, and kept in the session, so pages cost no extra query; saving it on
the Settings page updates the session at once. API clients signing in with a token send
Accept-Language (the API's error messages follow it).
"""

from django.utils import translation

SESSION_KEY = "_language"


def user_language(user) -> str:
    """The user's chosen language code, or "" (none chosen: Accept-Language decides)."""
    from notifications.models import NotificationPreference

    return (
        NotificationPreference.objects.filter(user=user).values_list("language", flat=True).first()
        or ""
    )


def remember_language(request, language: str) -> None:
    request.session[SESSION_KEY] = language


def remember_on_login(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (connected in NotificationsConfig.ready): keep the choice in
    the new session."""
    if request is not None and hasattr(request, "session"):
        remember_language(request, user_language(user))


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language is None and session is not None and request.user.is_authenticated:
            # A session from before the choice was kept in it: read it once.
            language = user_language(request.user)
            remember_language(request, language)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
