import pytest
from rest_framework.test import APIClient

from courses.models import Protocol
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PROTOCOL = {
    "code": "ceruloplasmin-local-trial",
    "indication": "Local protocol (test)",
    "population": "adult",
    "leaflet_file": "001_a9dd8020501fd367.txt",
    "leaflet_section": "Dosing and administration",
    "leaflet_quote": "…",
    "route": "iv_drip",
    "phases": [
        {
            "dose_basis": "per_kg",
            "dose_min": "1.5",
            "dose_max": "2.0",
            "dose_unit": "mg/kg",
            "patterns": [{"kind": "daily"}],
            "count_min": 7,
            "count_max": 10,
        }
    ],
}


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "fields", "request_id"}
    assert body["error"]["status"] == status
    return body["error"]


def test_anonymous_gets_401_in_the_error_shape(anon_client, formulary):
    error = _error(anon_client.get("/api/v1/protocols/"), 401)
    assert error["code"] == "not_authenticated"


def test_viewer_reads_protocols_with_nested_phases(
    viewer_client, formulary, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = viewer_client.get("/api/v1/protocols/?page_size=100")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 25
    chronic = next(p for p in body["results"] if p["code"] == "ceruloplasmin-osteomyelitis-chronic")
    assert [ph["dose_min"] for ph in chronic["phases"]] == ["5.000", "2.500"]
    assert chronic["product_code"] == "ceruloplasmin"


def test_protocol_filters(viewer_client, formulary):
    response = viewer_client.get("/api/v1/protocols/?product__code=betaleukin&route=sc")
    assert {p["code"] for p in response.json()["results"]} == {
        "betaleukin-leukopoiesis-toxic-sc",
        "betaleukin-leukopoiesis-support-sc",
        "betaleukin-immunodeficiency-sc",
    }


@pytest.mark.parametrize("client_name", ["viewer_client", "nurse_client", "physician_client"])
def test_only_pharmacists_write(request, client_name, formulary):
    client = request.getfixturevalue(client_name)
    product = client.get("/api/v1/products/?code=ceruloplasmin").json()["results"][0]
    error = _error(
        client.post(
            "/api/v1/protocols/", {**NEW_PROTOCOL, "product": product["id"]}, format="json"
        ),
        403,
    )
    assert error["code"] == "permission_denied"
    _error(
        client.patch(
            f"/api/v1/products/{product['id']}/", {"shelf_life_months": 12}, format="json"
        ),
        403,
    )


def test_pharmacist_creates_and_updates_a_protocol(pharmacist_client, formulary):
    product = pharmacist_client.get("/api/v1/products/?code=ceruloplasmin").json()["results"][0]
    response = pharmacist_client.post(
        "/api/v1/protocols/", {**NEW_PROTOCOL, "product": product["id"]}, format="json"
    )
    assert response.status_code == 201, response.content
    created = Protocol.objects.get(code="ceruloplasmin-local-trial")
    assert created.phases.get().count_max == 10

    response = pharmacist_client.patch(
        f"/api/v1/protocols/{created.pk}/", {"indication": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    created.refresh_from_db()
    assert created.indication == "Renamed" and created.phases.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phases": []}, "phases"),
        ({"route": "oral"}, "route"),
        ({"product": 999999}, "product"),
        ({"code": "x" * 200}, "code"),
        (
            {"phases": [{**NEW_PROTOCOL["phases"][0], "patterns": [{"kind": "fortnightly"}]}]},
            "phases",
        ),
        ({"phases": [{**NEW_PROTOCOL["phases"][0], "dose_min": "3", "dose_max": "2"}]}, "phases"),
        ({"phases": [{**NEW_PROTOCOL["phases"][0], "dose_unit": "mg"}]}, "phases"),
        ({"phases": [{**NEW_PROTOCOL["phases"][0], "count_min": "many"}]}, "phases"),
        ({"min_age_months": -1}, "min_age_months"),
    ],
)
def test_bad_protocol_input_is_400_with_the_field(pharmacist_client, formulary, change, field):
    product = pharmacist_client.get("/api/v1/products/?code=ceruloplasmin").json()["results"][0]
    payload = {**NEW_PROTOCOL, "product": product["id"], **change}
    error = _error(pharmacist_client.post("/api/v1/protocols/", payload, format="json"), 400)
    assert field in error["fields"]
    assert not Protocol.objects.filter(code=payload["code"]).exists()


def test_malformed_json_is_400(pharmacist_client):
    response = pharmacist_client.generic(
        "POST", "/api/v1/protocols/", "{not json", content_type="application/json"
    )
    error = _error(response, 400)
    assert "JSON" in error["message"]


def test_unknown_id_is_404_in_the_error_shape(viewer_client, formulary):
    error = _error(viewer_client.get("/api/v1/protocols/999999/"), 404)
    assert error["code"] == "not_found"


def test_token_login_and_token_use(roles, formulary):
    UserFactory(username="nina", roles=["nurse"])
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "nina", "password": "pw-for-tests-only"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/products/").json()["count"] == 3

    bad = client.post(
        "/api/v1/auth/token/", {"username": "nina", "password": "wrong"}, format="json"
    )
    assert "non_field_errors" in _error(bad, 400)["fields"]


def test_user_without_a_role_is_refused(formulary):
    client = APIClient()
    client.force_authenticate(UserFactory())
    _error(client.get("/api/v1/protocols/"), 403)


def test_schema_validates_and_docs_serve_local_assets(client):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert "/api/v1/protocols/" in schema["paths"]

    response = client.get("/api/schema/")
    assert response.status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()


def test_missing_fields_give_the_required_code_and_name_the_field(pharmacist_client, formulary):
    error = _error(pharmacist_client.post("/api/v1/protocols/", {}, format="json"), 400)
    assert error["code"] == "required"
    assert {"code", "indication", "phases", "product"} <= set(error["fields"])
    assert error["message"].startswith("code: This field is required.")


def test_schema_documents_cursor_pages_for_readings_and_numbered_pages_elsewhere():
    """The readings list pages by cursor (`next`/`previous`, `count` only with `page`); every
    other list keeps numbered pages with a required `count`."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def listing(path):
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return {p["name"] for p in operation["parameters"]}, components[ref.split("/")[-1]]

    params, page = listing("/api/v1/readings/")
    assert {"cursor", "page", "page_size", "location", "taken_after"} <= params
    assert page["required"] == ["results"]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert "404" in schema["paths"]["/api/v1/readings/"]["get"]["responses"]  # a bad cursor
    params, page = listing("/api/v1/lots/")
    assert "cursor" not in params and {"page", "page_size"} <= params
    assert set(page["required"]) == {"count", "results"}
