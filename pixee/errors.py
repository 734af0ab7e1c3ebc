"""Errors that services raise and the API turns into HTTP answers."""


class Conflict(Exception):
    """The object's current state does not allow the operation (HTTP 409)."""


class PayloadTooLarge(Exception):
    """An upload or download exceeds a configured size limit (HTTP 413)."""


class Unprocessable(Exception):
    """The request is well-formed but conflicts with an earlier one (HTTP 422)."""
