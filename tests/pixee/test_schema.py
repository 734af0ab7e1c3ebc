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
