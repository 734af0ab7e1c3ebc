import hashlib

import pytest

from automations.sources import Download, SourceError


def test_download_counts_hashes_and_removes_its_temporary_file():
    with Download(max_bytes=100) as download:
        download.write(b"abc")
        download.write(b"def")
        download.finish()
        path = download.path
        assert path.read_bytes() == b"abcdef"
        assert (download.size, download.sha256) == (6, hashlib.sha256(b"abcdef").hexdigest())
    assert not path.exists()


def test_download_refuses_more_than_the_cap_while_streaming():
    with Download(max_bytes=5) as download:
        download.write(b"12345")
        with pytest.raises(SourceError, match="larger than that: over the 5 bytes limit"):
            download.write(b"6")


def test_download_refuses_an_announced_size_over_the_cap():
    with Download(max_bytes=5) as download, pytest.raises(SourceError, match="is 6 bytes"):
        download.expect(6)


def test_download_gives_up_after_its_deadline():
    with Download(max_bytes=100, deadline=0) as download, pytest.raises(SourceError, match="took longer"):
        download.write(b"x")
