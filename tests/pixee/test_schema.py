import pytest

pytestmark = pytest.mark.django_db


def test_openapi_schema_and_docs_are_served(api):
    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/imports/jobs",
        "/api/v1/imports/jobs/{job_id}",
        "/api/v1/imports/jobs/{job_id}/logs",
        "/api/v1/imports/jobs/{job_id}/preview",
        "/api/v1/imports/jobs/{job_id}/pause",
        "/api/v1/imports/jobs/{job_id}/errors.csv",
        "/api/v1/catalog/products",
    ]:
        assert any(p.rstrip("/") == path for p in paths), path
    assert api.get("/api/v1/docs/").status_code == 200


def test_the_upload_is_documented_as_the_api_takes_and_answers_it(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/imports/jobs"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    # A file part, not the URI the responses show for a file field.
    assert schema["components"]["schemas"][body]["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "The import file. Accepted formats: .csv, .xlsx, .json, .xml.",
    }
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    created = schema["components"]["schemas"][created]
    # Sent only when webhook_url was given: documented, and not required.
    assert "webhook_secret" in created["properties"] and "webhook_secret" not in created["required"]


def test_every_documented_error_has_drf_s_shape_and_the_report_is_csv(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    assert response["content"] == {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    }, (method, path, code)
    report = schema["paths"]["/api/v1/imports/jobs/{job_id}/errors.csv"]["get"]["responses"]
    assert list(report["200"]["content"]) == ["text/csv"] and "409" in report


def test_every_api_answer_is_checked_against_the_schema(api, monkeypatch):
    from imports.api import serializers
    from tests.imports.helpers import run_import

    job = run_import("ean,name\n4006381333931,A\n", user=api.user)
    assert api.get(f"/api/v1/imports/jobs/{job.pk}").status_code == 200
    # A field of the wrong type: the autouse check in tests/conftest.py refuses the answer.
    original = serializers.ImportJobSerializer.to_representation
    monkeypatch.setattr(
        serializers.ImportJobSerializer,
        "to_representation",
        lambda self, job: {**original(self, job), "file_size": "big"},
    )
    with pytest.raises(AssertionError, match="does not match the OpenAPI schema"):
        api.get(f"/api/v1/imports/jobs/{job.pk}")


def test_streamed_answers_are_checked_and_still_readable(api):
    from tests.imports.helpers import run_import

    job = run_import("ean,name\n4006381333931,A\nbad,B\n", user=api.user)
    response = api.get(f"/api/v1/imports/jobs/{job.pk}/errors.csv")
    assert response.status_code == 200
    assert b"row_number" in b"".join(response.streaming_content)


def test_schema_types_what_the_spec_shows(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    upload = schema["paths"]["/api/v1/imports/jobs"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert upload["multipart/form-data"]["encoding"]["mapping"]["contentType"] == "application/json"
    assert components["ImportJobCreateInputRequest"]["properties"]["mapping"]["additionalProperties"] == {
        "type": "string"
    }
    assert set(components["PageMeta"]["required"]) == {
        "total",
        "page",
        "per_page",
        "total_pages",
        "has_next",
        "has_previous",
    }
    assert {"status", "file_size", "failed_rows", "started_at"} <= set(components["ImportJob"]["required"])
    assert {"row_number", "field", "value"} <= set(components["ImportLog"]["required"])
    assert "anyOf" in components["Product"]["properties"]["image_url"]
    for path in ("/api/v1/webhooks", "/api/v1/webhooks/{webhook_id}"):
        for operation in schema["paths"][path].values():
            if "requestBody" in operation:
                assert list(operation["requestBody"]["content"]) == ["application/json"]
    errors_csv = schema["paths"]["/api/v1/imports/jobs/{job_id}/errors.csv"]["get"]
    assert errors_csv["operationId"] == "imports_jobs_errors_csv"
    assert errors_csv["responses"]["200"]["content"]["text/csv"]["schema"]["format"] == "binary"
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert not [i for i in operation_ids if "." in i or i.endswith(("_retrieve", "_destroy"))]


def test_every_page_s_meta_is_the_spec_s_typed_block(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    pages = {name: c for name, c in components.items() if set(c.get("properties", {})) == {"items", "meta"}}
    assert {"ImportJobPage", "ImportLogPage", "ImportChangePage", "ProductPage"} <= set(pages)
    for name, page in pages.items():
        assert page["properties"]["meta"] == {"$ref": "#/components/schemas/PageMeta"}, name
    meta = components["PageMeta"]["properties"]
    assert {field: meta[field]["type"] for field in meta} == {
        "total": "integer",
        "page": "integer",
        "per_page": "integer",
        "total_pages": "integer",
        "has_next": "boolean",
        "has_previous": "boolean",
    }
