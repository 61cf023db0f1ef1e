"""Accounts: API tokens, sign-in lockout responses and the idle timeout of ward sessions.

Every password entry point — `POST /api/v1/auth/token/`, `/accounts/login/` and the admin's
login — goes through `django.contrib.auth.authenticate` with the request, so django-axes counts
its failures per username and per client address (settings `LOGIN_FAILURE_LIMIT`,
`LOGIN_LOCKOUT_MINUTES`) and refuses a locked-out account or address even with the right
password. Axes stores the attempts in the database, which every web process shares; the admin
lists them (Sign-ins → access attempts / failures) with the username, address, count and path, and
deleting an attempt lifts its lockout. Passwords are never logged: Axes masks them.

API tokens are django-rest-knox tokens: stored as SHA-512 digests, never in clear; each expires
after `API_TOKEN_IDLE_MINUTES` without use and `API_TOKEN_MAX_HOURS` after it was issued,
whichever comes first. Their owner lists and revokes them at `/api/v1/auth/tokens/`; an admin
(superuser) sees and revokes everyone's there and in the admin.
"""

import time

from django.conf import settings
from django.contrib.auth import authenticate, logout
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from knox.views import LoginView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, mixins, permissions, serializers, viewsets

from config.api import error_body

# --- Client address ------------------------------------------------------------------------------


def client_ip(request) -> str | None:
    """The client's address for lockouts.

    REMOTE_ADDR, unless `TRUSTED_PROXY_HOPS` (the number of reverse proxies in front of the app,
    each appending to X-Forwarded-For) says to read that header: the address the outermost
    trusted proxy saw is the last-but-(hops − 1) entry. Entries left of it are the client's own
    word and could be forged to dodge the per-address limit.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")


# --- Lockout -------------------------------------------------------------------------------------


def _lockout_message() -> str:
    return ngettext(
        "Too many failed sign-ins for this account or from this address. Try again in "
        "%(minutes)d minute, or ask an administrator to lift the lock.",
        "Too many failed sign-ins for this account or from this address. Try again in "
        "%(minutes)d minutes, or ask an administrator to lift the lock.",
        settings.LOGIN_LOCKOUT_MINUTES,
    ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}


class LockedOut(exceptions.APIException):
    status_code = 429
    default_code = "locked_out"

    def __init__(self):
        super().__init__(_lockout_message())


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked-out sign-in: the API's error shape on the API, a page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(status=429, code="locked_out", message=_lockout_message()), status=429
        )
    return render(
        request,
        "registration/locked_out.html",
        {"message": _lockout_message()},
        status=429,
    )


# --- API tokens ----------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="digest", read_only=True, help_text="Use it to revoke.")
    username = serializers.CharField(source="user.get_username", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["id", "username", "created", "expiry", "current"]

    def get_current(self, token) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return isinstance(auth, AuthToken) and auth.digest == token.digest


class TokenView(LoginView):
    """POST username + password, get an API token (`Authorization: Token <token>`).

    The token expires after API_TOKEN_IDLE_MINUTES unused and API_TOKEN_MAX_HOURS after issue.
    Repeated wrong passwords lock the username and the address out (429).
    """

    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "IssuedToken",
                {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
            ),
            429: OpenApiResponse(
                description="Too many failed sign-ins for this username or from this address "
                "(`locked_out`): refused, even with the right password, until the lock ends."
            ),
        },
    )
    def post(self, request, format=None):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Axes reads and marks the Django request (its middleware answers the lockout).
        django_request = request._request
        user = authenticate(request=django_request, **serializer.validated_data)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                raise LockedOut()
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to log in with the credentials given.")]},
                code="authorization",
            )
        request.user = user
        return super().post(request, format=format)


class LogoutView(KnoxLogoutView):
    """POST with `Authorization: Token <token>`: that token is revoked at once (204)."""

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request, format=None):
        return super().post(request, format=format)


class IsSignedIn(permissions.BasePermission):
    """Any signed-in account (a sensor gateway too) manages its own tokens."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your API tokens (an admin: everyone's), newest first; DELETE revokes one at once."""

    serializer_class = TokenSerializer
    permission_classes = (IsSignedIn,)
    filter_backends = []
    lookup_field = "digest"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-f]{128}"

    def get_queryset(self):
        tokens = AuthToken.objects.select_related("user").order_by("-created")
        if self.request.user.is_superuser:
            return tokens
        return tokens.filter(user=self.request.user)


# --- Idle sessions -------------------------------------------------------------------------------


class SessionIdleTimeoutMiddleware:
    """Sign out a browser session left unused for SESSION_IDLE_TIMEOUT_MINUTES.

    Ward computers are shared: a nurse who walks away must not leave her account open for the
    next person. The absolute limit stays SESSION_COOKIE_AGE (one shift). The sign-in stamps the
    new session (it is being saved anyway); later requests move the stamp at most once a minute,
    so reading pages does not save the session every time.
    """

    KEY = "_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = int(time.time())
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            last_seen = request.session.get(self.KEY)
            if last_seen is not None:
                if now - last_seen > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
                    logout(request)  # flushes the session; the page then asks to sign in again
                elif now - last_seen >= 60:
                    request.session[self.KEY] = now
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.modified
            and self.KEY not in session
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            session[self.KEY] = now  # signed in by this request (login page, admin)
        return response
