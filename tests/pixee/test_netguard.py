import http.server
import threading

import pytest

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
    ],
)
def test_private_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
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
    ["127.0.0.1", "localhost", "2130706433", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]"],
)
def test_loopback_in_any_spelling_is_refused(settings, loopback_server, host):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    with pytest.raises(BlockedAddress):
        guarded_session().get(f"http://{host}:{loopback_server.server_port}/", timeout=5)


def test_link_local_metadata_address_is_refused_without_connecting(settings):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
        guarded_session().get("http://169.254.169.254/latest/meta-data/", timeout=1)


def test_allowed_when_private_network_is_enabled(settings, loopback_server):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    response = guarded_session().get(f"http://127.0.0.1:{loopback_server.server_port}/redirect", timeout=5)
    assert response.status_code == 200
    assert response.content == b"ok"
