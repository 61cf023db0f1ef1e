"""Project-wide REST plumbing: role permission, pagination and the one error shape."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, parsers, permissions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.renderers import JSONRenderer

from config.roles import ALL_ROLES, Role, user_roles


class RolePermission(permissions.BasePermission):
    """Reads for every role, writes for the roles a view names.

    A view sets `write_roles` (default: pharmacists) and may set `action_roles`, a mapping of
    action name to the roles allowed to run it, which wins over both defaults.
    """

    message = gettext_lazy("Your role does not allow this action.")

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        roles = user_roles(request.user)
        action = getattr(view, "action", None)
        action_roles = getattr(view, "action_roles", {})
        if action in action_roles:
            allowed = action_roles[action]
        elif request.method in permissions.SAFE_METHODS:
            allowed = getattr(view, "read_roles", ALL_ROLES)
        else:
            allowed = getattr(view, "write_roles", {Role.PHARMACIST})
        return bool(roles & set(allowed))


def validated(serializer_class, data, **kwargs) -> dict:
    """An input serializer's validated data; its errors answer 400 in the error shape."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _nul_path(value, path: str = "") -> str | None:
    """The path (`phases.0.note`) of the first string in parsed JSON holding a NUL, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if not isinstance(value, (dict, list)):
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        inner_path = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return inner_path
        found = _nul_path(inner, inner_path)
        if found is not None:
            return found
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing text holding a NUL character (\\u0000) with a 400 naming the
    field. PostgreSQL cannot store or compare such text: DRF's CharField refuses it already, but a
    related field looked up by code (a ward, a protocol, an allergy) would reach the database
    with it and fail there (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        path = _nul_path(data)
        if path is not None:
            field = path.split(".")[0] or "non_field_errors"
            message = (
                _("Text may not contain a NUL character (\\u0000) (at %(path)s).") % {"path": path}
                if "." in path
                else _("Text may not contain a NUL character (\\u0000).")
            )
            raise exceptions.ValidationError(
                {field: [message]},
                code="null_characters_not_allowed",
            )
        return data


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = gettext_lazy("It is still in use and cannot be deleted.")
    default_code = "protected"


class DatabaseUnavailable(exceptions.APIException):
    """The database connection was lost mid-request: the write was rolled back; try again."""

    status_code = 503
    default_detail = gettext_lazy(
        "The service is briefly unavailable (database connection lost). Try again."
    )
    default_code = "database_unavailable"


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class NewestFirstPagination(CursorPagination):
    """Cursor pages for a list that only grows and is read from its newest end (temperature
    readings, 5,000,000 at a large hospital): `next` and `previous` links and no `count`, in the
    selector's order. Numbered pages counted every row on each request (0.5 s) and slow down
    with the page number (OFFSET); a cursor page is an index range scan, as fast on the last page
    as on the first.

    A request naming `page` is answered in numbered pages with `count`, as before, so clients
    written for them keep working (at the old cost).
    """

    page_size_query_param = Pagination.page_size_query_param
    max_page_size = Pagination.max_page_size
    numbered = None

    def get_ordering(self, request, queryset, view):
        # The selector's order (unique thanks to the id), not a second copy of it here.
        return tuple(queryset.query.order_by)

    def paginate_queryset(self, queryset, request, view=None):
        if Pagination.page_query_param in request.query_params:
            self.numbered = Pagination()
            return self.numbered.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.numbered is not None:
            return self.numbered.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        count = {
            "type": "integer",
            "example": 123,
            "description": "Only when the request names `page`: the number of results.",
        }
        answer["properties"] = {"count": count, **answer["properties"]}
        return answer

    def get_schema_operation_parameters(self, view):
        page = {
            "name": Pagination.page_query_param,
            "required": False,
            "in": "query",
            "description": "Numbered pages with `count` instead of cursor pages (slower: the "
            "count reads every row).",
            "schema": {"type": "integer"},
        }
        return [*super().get_schema_operation_parameters(view), page]


def _fields_from(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return {}


def _flatten(value):
    if isinstance(value, dict):
        return {key: _flatten(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_flatten(item) for item in value]
    return str(value)


def _drf_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """Turn a service's Django ValidationError into DRF's, keeping each error's code."""
    from rest_framework.exceptions import ErrorDetail

    def details(errors) -> list:
        out = []
        for error in errors:
            for message in error.messages if hasattr(error, "messages") else [error]:
                out.append(
                    ErrorDetail(str(message), code=getattr(error, "code", None) or "invalid")
                )
        return out

    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {field: details(errors) for field, errors in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": details(exc.error_list)})


def _codes(codes) -> set[str]:
    if isinstance(codes, dict):
        return set().union(*(_codes(value) for value in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_codes(value) for value in codes)) if codes else set()
    return {codes}


def _first_messages(fields: dict, limit: int = 3) -> str:
    parts = []
    for name, errors in list(fields.items())[:limit]:
        first = errors[0] if isinstance(errors, list) and errors else errors
        while isinstance(first, (list, dict)) and first:
            first = first[0] if isinstance(first, list) else next(iter(first.values()))
        text = str(first)
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return " ".join(parts) or _("Invalid input.")


def error_renderers(renderers) -> list:
    """The renderers an error may be answered with, given a view's renderers: plain JSON first,
    then any other JSON media type the view serves (FHIR's `application/fhir+json`).

    The error body is the same in each; config/openapi.py documents these media types for every
    error of the view, and the exception handler negotiates among them.
    """
    others = [r for r in renderers if isinstance(r, JSONRenderer) and type(r) is not JSONRenderer]
    return [JSONRenderer(), *others]


def _negotiate_error_media_type(request, view) -> None:
    """An error is `application/json` unless the client accepts only another JSON type the view
    serves: a FHIR client sending `Accept: application/fhir+json` gets its error as that, a
    caller accepting anything (or JSON) gets plain JSON, whatever the view's first renderer."""
    if request is None or view is None:
        return
    candidates = error_renderers(view.get_renderers())
    if len(candidates) == 1:
        return  # plain JSON views: DRF's own negotiation (the browsable API included) stands
    try:
        renderer, media_type = DefaultContentNegotiation().select_renderer(request, candidates)
    except (exceptions.NotAcceptable, Http404):  # nothing acceptable; an unknown `?format=`
        renderer, media_type = candidates[0], candidates[0].media_type
    request.accepted_renderer, request.accepted_media_type = renderer, media_type


def exception_handler(exc, context):
    """Render every 4xx (and a lost database, 503) as
    {"error": {"status", "code", "message", "fields", "request_id"}}.

    For a 400, `code` is the errors' own code when they all share one (e.g. `required`,
    `insufficient_stock`), else `invalid`; `message` summarises the first errors.
    """
    # Imported here: rest_framework.views reads DEFAULT_PERMISSION_CLASSES, i.e. this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    from config.logging import database_unavailable

    if database_unavailable(exc):
        exc = DatabaseUnavailable()
    elif isinstance(exc, DjangoValidationError):
        exc = _drf_validation_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        # e.g. deleting a product that has lots: the ledger keeps its history, so refuse.
        blocking = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        used_by = sorted({str(obj._meta.verbose_name_plural) for obj in blocking})
        exc = Conflict(
            _("It is still used by %(objects)s and cannot be deleted.")
            % {"objects": ", ".join(used_by)}
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            _fields_from(detail)
            if isinstance(detail, dict)
            else {"non_field_errors": _flatten(detail)}
        )
        codes = _codes(exc.get_codes())
        code = codes.pop() if len(codes) == 1 else "invalid"
        message = _first_messages(fields)
    else:
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        code = getattr(exc, "default_code", "error")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        if isinstance(codes, str):
            code = codes
        fields = {}
    response.data = error_body(
        status=response.status_code, code=code, message=message, fields=fields
    )
    _negotiate_error_media_type(context.get("request"), context.get("view"))
    if response.status_code == 503:
        response["Retry-After"] = "5"
    return response


def error_body(*, status: int, code: str, message: str, fields: dict | None = None) -> dict:
    """The one error shape (documented once, as the `Error` component in config/openapi.py)."""
    from config.logging import request_id

    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "fields": fields or {},
            "request_id": request_id(),
        }
    }


@csrf_exempt  # it changes nothing; a POST to a wrong URL should learn that, not fail CSRF
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Every URL under /api/ that matches no endpoint, whatever the method: the error shape, not
    Django's HTML page (an API client parses every answer as JSON)."""
    message = _("No such endpoint.")
    if not request.path.endswith("/"):
        message += " " + _("API URLs end with a slash: %(path)s/") % {"path": request.path}
    return JsonResponse(error_body(status=404, code="not_found", message=message), status=404)
