"""The real suppliers' files: read from ``../shared/realfiles/`` next to the repository, never committed.

They are public files written by tools and shops we do not control (its README says where each
comes from), so they are not ours to copy into the repository. A test that needs one asks
``realfile(name)``: absent, the test is skipped with the reason, unless ``CI`` is set, where a
missing real file fails the run instead of quietly testing less.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared/realfiles from the repository's root; a git worktree under wt/ looks one level up.
REALFILES = next(
    (
        path
        for path in (ROOT.parent / "shared" / "realfiles", ROOT.parent.parent / "shared" / "realfiles")
        if path.is_dir()
    ),
    ROOT.parent / "shared" / "realfiles",
)


def realfile(name: str) -> Path:
    """The path of the real file ``name``; skips the calling test (fails it under CI) when absent."""
    path = REALFILES / name
    if not path.is_file():
        message = f"the real file {name} is not in {REALFILES} (see ../shared/realfiles/README.md)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}")
        pytest.skip(message)
    return path


def realfile_bytes(name: str) -> bytes:
    """The bytes of the real file ``name`` (see ``realfile``)."""
    return realfile(name).read_bytes()
