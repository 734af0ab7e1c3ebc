"""Checks on the endpoint URLs users give us, before anything is stored."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from pixee.netguard import BlockedAddress, UnresolvableHost, resolve_checked

MAX_URL_LENGTH = 2000


def check_endpoint_url(url: str) -> str:
    """``url``, stripped, if it is an http(s) URL we may call; else ``ValueError`` saying why.

    A host that resolves to a private or reserved address is refused (unless
    ``PIXEE_ALLOW_PRIVATE_NETWORK``). A host that does not resolve yet is accepted: DNS may be
    set up later, and every delivery checks the address it connects to anyway.
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError("The URL contains spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("The URL must start with http:// or https://.")
    if not parts.hostname:
        raise ValueError("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        # Stored and listed in clear: receivers authenticate us by the signature instead.
        raise ValueError("The URL must not contain a user name or password; verify Pixee-Signature instead.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise ValueError("The URL's port is not a number between 0 and 65535.") from None
    if not settings.PIXEE_ALLOW_PRIVATE_NETWORK:
        _check_public(parts.hostname, port)
    return url


def _check_public(host: str, port: int) -> None:
    try:
        resolve_checked(host, port)
    except UnresolvableHost:
        return  # may resolve later; every delivery checks again
    except BlockedAddress as exc:
        raise ValueError(f"{exc} Webhooks may only call public addresses.") from None
