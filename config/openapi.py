"""The OpenAPI schema as the API's contract: errors, tags and list mechanics for every operation.

drf-spectacular documents what a view's serializers say about its 2xx answers. What they cannot say
— which 4xx an operation can answer, and that every 4xx has the one shape of
`config.api.exception_handler` — is decided here once, from what the view is, so no operation can
forget it. The schema is generated from the views alone, never from the caller: a view whose
behaviour depends on `request.user` checks `swagger_fake_view` (see `MovementViewSet`).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, append_meta
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from config.api import RolePermission, error_renderers

ERROR_COMPONENT = "Error"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx answer of the API (unknown URLs under /api/ included), and a 503.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "code": {
                    "type": "string",
                    "description": "Machine-readable reason: `invalid`, `required`, "
                    "`insufficient_stock`, `not_found`, `not_authenticated`, "
                    "`permission_denied`, `protected`, …",
                },
                "message": {"type": "string", "description": "A sentence for a person."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "On a 400: each field's reasons (a list of strings, or an "
                    "object for nested fields; `non_field_errors` for the input as a whole). "
                    "Empty otherwise.",
                },
                "request_id": {
                    "type": "string",
                    "description": "This request's id (the `X-Request-ID` header, in the logs).",
                },
            },
            "required": ["status", "code", "message", "fields", "request_id"],
        }
    },
    "required": ["error"],
}

TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"

# Query parameters whose bad values never answer 400: DRF ignores an unknown ordering or a bad
# page size; a bad page number or cursor is a 404.
_LENIENT_QUERY = {"page", "page_size", "ordering", "cursor"}

_DESCRIPTIONS = {
    "400": "Invalid input: `error.fields` names each field with its reasons.",
    "401": "No or invalid credentials.",
    "403": "The caller's role does not allow this operation (or a missing CSRF token with "
    "session authentication).",
    "404": "No such object (or not visible to the caller: nurses see only their wards), "
    "or no such page.",
    "409": "Still in use (stock history points at it): not deleted.",
    "429": "Too many requests: try again later.",
    "503": "The database is unreachable for a moment: retry after `Retry-After` seconds.",
}


class ContractSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error_ref = self._error_component().ref
        # Errors come in plain JSON, and in the view's other JSON type to a client accepting
        # only that (config.api.error_renderers): documented alike.
        content = {
            renderer.media_type: {"schema": error_ref}
            for renderer in error_renderers(self.view.get_renderers())
        }
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
        for status, response in responses.items():
            # A view names an error the rules below cannot see (e.g. a search's 404 for an
            # unknown patient) with a description alone; its body is the error shape as well.
            if str(status)[0] in "45" and "content" not in response:
                response["content"] = content
        operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation

    def _error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component

    def _error_statuses(self, operation: dict) -> list[str]:
        statuses = []
        checked_query = any(
            parameter["in"] == "query" and parameter["name"] not in _LENIENT_QUERY
            for parameter in operation.get("parameters", [])
        )
        if self.method in {"POST", "PUT", "PATCH"} or checked_query:
            statuses.append("400")  # includes a body that is not JSON
        if self._requires_sign_in():
            statuses += ["401", "403"]
        paginated = self._get_paginator() is not None and self._is_list_view()
        if "{" in self.path or paginated:
            statuses.append("404")
        if self.method == "DELETE":
            statuses.append("409")
        if self.view.get_throttles():
            statuses.append("429")
        statuses.append("503")  # any operation, when the database connection is lost
        return statuses

    def _requires_sign_in(self) -> bool:
        # Roles, or any other permission but AllowAny (own tokens, logout): no credentials 401,
        # a session without its CSRF token 403. Token-in-the-path feeds and sign-in allow any.
        permissions_ = self.view.get_permissions()
        return any(isinstance(p, RolePermission) for p in permissions_) or any(
            not isinstance(p, AllowAny) for p in permissions_
        )

    def _get_paginator(self):
        # DRF paginates only ListModelMixin.list; an action answering a list answers it whole,
        # unless it says it pages (`@action(..., paginated=True)`, e.g. `{id}/history/`).
        if getattr(self.view, "action", None) != "list" and not getattr(
            self.view, "paginated", False
        ):
            return None
        return super()._get_paginator()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.TimeField) and not bypass_extensions:
            # Wall-clock times in the hospital's zone ("10:00:00"), which JSON Schema's `time`
            # format (RFC 3339, offset required) refuses.
            meta = self._get_serializer_field_meta(field, direction)
            return append_meta(
                {"type": "string", "pattern": TIME_PATTERN, "example": "10:00"}, meta
            )
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        # Fields some callers never receive (e.g. a movement's recipient for nurses): the one
        # schema every caller shares documents them as optional.
        optional = set(getattr(getattr(serializer, "Meta", None), "schema_optional_fields", ()))
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema
