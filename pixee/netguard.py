"""Outbound HTTP that cannot be pointed at our own network (SSRF guard).

Webhook receivers and HTTP sources are URLs chosen by users. Every connection resolves the
host, refuses it unless every address is public (no loopback, private, link-local, shared,
reserved, multicast or unspecified address; an IPv6 address carrying an IPv4 one, as mapped,
IPv4-compatible, NAT64, 6to4 or Teredo addresses do, is judged by that IPv4), then connects to the
very address it checked, so DNS cannot answer differently between check and connect. Redirects
open new connections and are checked the same way. ``PIXEE_ALLOW_PRIVATE_NETWORK`` lifts it.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000


class BlockedAddress(OSError):
    """The URL's host resolves to an address this service may not reach."""


class UnresolvableHost(BlockedAddress):
    """The host does not resolve (yet): nothing can be reached, nothing was checked."""


# NAT64 (RFC 6052) translates the last 32 bits to an IPv4 destination; the local-use prefix
# (RFC 8215) may embed it anywhere, so it is never public.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# Deprecated IPv4-compatible addresses (RFC 4291 2.5.5.1): ``::a.b.c.d``.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a packet to ``ip`` would end up at, for the IPv6 forms that embed one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # (server, client): traffic goes to the client
    if ip in _NAT64_WELL_KNOWN or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return False
        carried = _carried_ipv4(ip)
        if carried is not None:
            return carried.is_global and not carried.is_multicast
    return ip.is_global and not ip.is_multicast


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to for ``host``, after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise UnresolvableHost(f"The host {host!r} cannot be resolved ({reason}).") from None
    addresses = [str(info[4][0]) for info in infos]
    if not settings.PIXEE_ALLOW_PRIVATE_NETWORK:
        private = [a for a in addresses if not is_public(a)]
        if private:
            raise BlockedAddress(
                f"The host {host!r} resolves to {private[0]}, a private or reserved address; "
                "set PIXEE_ALLOW_PRIVATE_NETWORK=true to allow it."
            )
    return addresses[0]


def check_endpoint_url(url: str) -> str:
    """``url``, stripped, if it is an http(s) URL we may call; else ``ValueError`` saying why.

    For the endpoints users give us to call back (webhooks, a job's ``webhook_url``), checked
    before anything is stored. A host that resolves to a private or reserved address is refused
    (unless ``PIXEE_ALLOW_PRIVATE_NETWORK``). A host that does not resolve yet is accepted: DNS
    may be set up later, and every connection checks the address it goes to anyway.
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
        try:
            resolve_checked(parts.hostname, port)
        except UnresolvableHost:
            pass  # may resolve later; every connection checks again
        except BlockedAddress as exc:
            raise ValueError(f"{exc} Webhooks may only call public addresses.") from None
    return url


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        # urllib3 resolves ``_dns_host``; give it the address we checked (Host and SNI keep the name).
        self._dns_host = resolve_checked(self.host, self.port)
        return super()._new_conn()


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        self._dns_host = resolve_checked(self.host, self.port)
        return super()._new_conn()


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


class GuardedSession(requests.Session):
    def request(self, *args, **kwargs):
        try:
            return super().request(*args, **kwargs)
        except requests.ConnectionError as exc:
            # requests wraps the refusal in connection errors; give callers the reason itself.
            blocked = _find_blocked(exc)
            if blocked is not None:
                raise blocked from None
            raise


def _find_blocked(exc: BaseException | None, depth: int = 0) -> BlockedAddress | None:
    if exc is None or depth > 8:
        return None
    if isinstance(exc, BlockedAddress):
        return exc
    for inner in (*getattr(exc, "args", ()), getattr(exc, "reason", None), exc.__cause__, exc.__context__):
        if isinstance(inner, BaseException) and (found := _find_blocked(inner, depth + 1)):
            return found
    return None


def guarded_session() -> requests.Session:
    """A ``requests.Session`` whose every connection goes through the address check.

    Refusals raise ``BlockedAddress`` with a sentence naming the host and the address.
    """
    session = GuardedSession()
    session.trust_env = False  # no proxy or .netrc from the environment can reroute us
    session.max_redirects = MAX_REDIRECTS
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ResponseTooLarge(Exception):
    """The response body exceeds the caller's limit."""


def read_capped(response: requests.Response, max_bytes: int, *, truncate: bool = False) -> bytes:
    """At most ``max_bytes`` of a streamed response's body; beyond: truncate or raise."""
    body = bytearray()
    for block in response.iter_content(chunk_size=65536):
        body.extend(block)
        if len(body) > max_bytes:
            if truncate:
                return bytes(body[:max_bytes])
            raise ResponseTooLarge(f"The response is larger than {max_bytes} bytes.")
    return bytes(body)
