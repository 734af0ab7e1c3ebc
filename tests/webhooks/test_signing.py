import time

from webhooks.signing import signature_header, signature_verify

SECRET = "s3cret"
BODY = b'{"id":"1","type":"import.completed"}'


def test_signature_verifies_and_a_tampered_body_does_not():
    header = signature_header(secret=SECRET, body=BODY)
    assert signature_verify(secret=SECRET, body=BODY, header=header)
    assert not signature_verify(secret=SECRET, body=BODY.replace(b"completed", b"failed"), header=header)
    assert not signature_verify(secret="other", body=BODY, header=header)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    header = signature_header(secret=SECRET, body=BODY, timestamp=1700000000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_an_old_or_reforged_timestamp_is_refused():
    old = signature_header(secret=SECRET, body=BODY, timestamp=int(time.time()) - 3600)
    assert not signature_verify(secret=SECRET, body=BODY, header=old)
    # The timestamp is signed: moving it forward breaks the signature.
    digest = old.split("v1=")[1]
    assert not signature_verify(secret=SECRET, body=BODY, header=f"t={int(time.time())},v1={digest}")
    assert not signature_verify(secret=SECRET, body=BODY, header="garbage")
