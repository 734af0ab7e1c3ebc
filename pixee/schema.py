"""OpenAPI description of our Bearer API keys (drf-spectacular extension, loaded by PixeeConfig)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "pixee.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <api key>"}


ERROR_SCHEMA = {
    "type": "object",
    "description": "DRF's error shape: {'detail': message}, or field → list of messages.",
    "additionalProperties": True,
}
# Answers any operation may give besides its documented success (CONTRACT §2).
COMMON_ERRORS = {
    "400": "Invalid input: field → messages",
    "401": "Missing, invalid or revoked API key",
    "404": "Not found, or another owner's object",
    "429": "Too many requests",
}


def strip_trailing_slashes(endpoints, **kwargs):
    """The spec's paths have no trailing slash; our URL patterns merely tolerate one."""
    return [
        (path.rstrip("/") or path, regex, method, callback) for path, regex, method, callback in endpoints
    ]


def _blank_only(schema) -> bool:
    return isinstance(schema, dict) and (schema.get("enum") == [""] or schema.get("maxLength") == 0)


def _blank_allowed_any_of(node):
    if isinstance(node, dict):
        branches = node.get("oneOf")
        # A blank-allowed field (URLField(blank=True)): "" matches both branches of a oneOf, so a
        # strict validator rejects it; anyOf says the same thing and accepts it.
        if isinstance(branches, list) and any(_blank_only(b) for b in branches):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _blank_allowed_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _blank_allowed_any_of(value)


def blank_strings_any_of(result, generator, request, public):
    """``oneOf[<string format>, ""]`` → ``anyOf``: a blank value must match exactly one branch."""
    _blank_allowed_any_of(result)
    return result


def add_error_responses(result, generator, request, public):
    """Document the error answers every operation can give, in DRF's shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in COMMON_ERRORS.items():
                responses.setdefault(code, {"description": description, "content": error_content})
            if "requestBody" in operation:
                responses.setdefault(
                    "415", {"description": "A body in a media type the operation does not accept"}
                )
            # Errors documented by a view (409, 413) with a description only: the same shape.
            for code, response in responses.items():
                if str(code).startswith("4") and "content" not in response:
                    response["content"] = error_content
    return result
