import http.server
import socket
import threading
from urllib.parse import unquote

import pytest

from pixee import netguard
from pixee.netguard import BlockedAddress, guarded_session, is_public


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        # IPv6 forms that carry a private IPv4 address are judged by it.
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::808:808",  # NAT64 local-use prefix: never public
        "::127.0.0.1",  # IPv4-compatible
        "::10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_private_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses(address):
    assert is_public(address)


@pytest.fixture
def loopback_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/ok")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::1]",
    ],
)
def test_loopback_in_any_spelling_is_refused(settings, loopback_server, host):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    with pytest.raises(BlockedAddress):
        guarded_session().get(f"http://{host}:{loopback_server.server_port}/", timeout=5)


@pytest.mark.parametrize(
    "host", ["::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe"]
)
def test_ipv6_spellings_of_private_ipv4_are_refused_before_any_connection(settings, host):
    # resolve_checked only parses the literal: a regression here cannot reach off the machine.
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    with pytest.raises(BlockedAddress, match="private or reserved"):
        netguard.resolve_checked(host, 80)


def test_link_local_metadata_address_is_refused_without_connecting(settings):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
        guarded_session().get("http://169.254.169.254/latest/meta-data/", timeout=1)


def test_allowed_when_private_network_is_enabled(settings, loopback_server):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    response = guarded_session().get(f"http://127.0.0.1:{loopback_server.server_port}/redirect", timeout=5)
    assert response.status_code == 200
    assert response.content == b"ok"


# --- redirects and names: an allowed first hop must not open the way to a private address -----

ALLOWED = "127.0.0.2"  # a loopback address these tests declare public, to stand for a public host


@pytest.fixture
def allowed_host(settings, monkeypatch):
    """The guard on, with exactly ALLOWED treated as a public address."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    real = netguard.is_public
    monkeypatch.setattr(netguard, "is_public", lambda address: address == ALLOWED or real(address))
    return ALLOWED


class Recorder(http.server.ThreadingHTTPServer):
    """Records request paths; /redirect?to=URL answers 302 to URL, anything else 200."""

    def __init__(self, host: str):
        self.paths: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.server.paths.append(self.path)
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", unquote(self.path.split("to=", 1)[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"secret")

            do_POST = do_GET

            def log_message(self, *args):
                pass

        super().__init__((host, 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{self.server_address[0]}:{self.server_port}{path}"


@pytest.fixture
def servers():
    """A server on ALLOWED and one on 127.0.0.1 (the private target)."""
    started = {"allowed": Recorder(ALLOWED), "private": Recorder("127.0.0.1")}
    yield started
    for server in started.values():
        server.shutdown()
        server.server_close()


def test_the_allowed_host_is_reached(allowed_host, servers):
    # The control: without a redirect the first hop passes, so the refusals below are the redirects'.
    assert guarded_session().get(servers["allowed"].url("/file"), timeout=5).content == b"secret"


@pytest.mark.parametrize("spelling", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(allowed_host, servers, spelling):
    private = servers["private"]
    target = f"http://{spelling}:{private.server_port}/internal"
    with pytest.raises(BlockedAddress, match=r"a private or reserved address"):
        guarded_session().get(servers["allowed"].url(f"/redirect?to={target}"), timeout=5)
    assert [unquote(p) for p in servers["allowed"].paths] == [f"/redirect?to={target}"]
    assert private.paths == []  # never connected to


def test_a_name_is_refused_when_any_of_its_addresses_is_private(settings, monkeypatch, servers):
    """A name answering one public and one private address (DNS rebinding's first half) is refused."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "mixed.example":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(BlockedAddress, match=r"'mixed\.example' resolves to 10\.0\.0\.5"):
        guarded_session().get("http://mixed.example/feed.csv", timeout=1)
