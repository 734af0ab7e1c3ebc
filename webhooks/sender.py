"""One attempt over HTTP: the signed request, the POST through the SSRF guard, and what came of it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.core.serializers.json import DjangoJSONEncoder

from pixee.crypto import DecryptionError
from pixee.netguard import BlockedAddress, guarded_session, read_capped

from .models import WebhookEvent
from .signing import signature_header

CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 15  # seconds of silence while waiting for, or reading, the answer
RESPONSE_EXCERPT_BYTES = 4096  # of the receiver's answer, kept for the owner to debug
USER_AGENT = "Pixee-Webhooks/1.0"


@dataclass
class Outcome:
    """What one attempt gave; ``fields()`` are the ``WebhookAttempt`` columns it fills."""

    status_code: int | None = None
    error: str = ""
    response_body: str = ""
    duration_ms: int = 0
    # Retrying cannot help: the address is refused, or there is no secret to sign with.
    permanent: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def fields(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "error": self.error,
            "response_body": self.response_body,
            "duration_ms": self.duration_ms,
        }


class Unsignable(Exception):
    """The delivery has no secret we can sign with; retrying will not give it one."""


def post(event: WebhookEvent) -> Outcome:
    """POST the event to its endpoint, signed now; never raises for what the endpoint does."""
    try:
        body, headers = signed_request(event)
    except Unsignable as exc:
        return Outcome(error=str(exc), permanent=True)
    outcome = _send(event.url, body, headers)
    if outcome.status_code is not None and not outcome.succeeded:
        outcome.error = status_error(outcome.status_code)
    return outcome


def signed_request(event: WebhookEvent) -> tuple[bytes, dict[str, str]]:
    """The body (the stored payload, compact) and the headers, ``Pixee-Signature`` computed now."""
    try:
        secret = event.secret
    except DecryptionError as exc:
        raise Unsignable(str(exc)) from None
    if not secret:
        raise Unsignable("Nothing to sign with: the job this delivery belongs to was deleted.")
    body = json.dumps(event.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Pixee-Event": event.type,
        "Pixee-Delivery": str(event.id),
        "Pixee-Signature": signature_header(secret=secret, body=body),
    }
    return body, headers


def status_error(status_code: int) -> str:
    """Why an answer with ``status_code`` is a failed attempt."""
    if 300 <= status_code < 400:
        return f"The endpoint answered HTTP {status_code} (redirects are not followed: give the final URL)."
    return f"The endpoint answered HTTP {status_code}; a 2xx status is expected."


def _send(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    outcome = Outcome()
    start = time.monotonic()
    try:
        # No redirects: a POST turned into a GET elsewhere is not a delivery; say so instead.
        with (
            guarded_session() as session,
            session.post(
                url,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            ) as response,
        ):
            outcome.status_code = response.status_code
            excerpt = read_capped(response, RESPONSE_EXCERPT_BYTES, truncate=True)
            # PostgreSQL text cannot hold NUL characters.
            outcome.response_body = excerpt.decode("utf-8", "replace").replace("\x00", "")
    except BlockedAddress as exc:
        outcome.permanent = True
        outcome.error = str(exc)
    except requests.Timeout:
        outcome.error = f"No answer in time (connect {CONNECT_TIMEOUT} s, read {READ_TIMEOUT} s)."
    except requests.RequestException as exc:
        outcome.error = f"The request failed: {_root_cause(exc)}."
    outcome.duration_ms = round((time.monotonic() - start) * 1000)
    return outcome


def _root_cause(exc: BaseException) -> str:
    """The innermost OS-level reason (``Connection refused``), not urllib3's nested wrappers."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        stack.extend(
            e
            for e in (*current.args, getattr(current, "reason", None), current.__cause__, current.__context__)
            if isinstance(e, BaseException)
        )
    return str(exc) or type(exc).__name__
