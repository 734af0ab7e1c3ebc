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
