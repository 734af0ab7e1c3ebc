"""A real storage backend for tests that must know whether a stored file was opened."""

from __future__ import annotations

from typing import ClassVar

from django.core.files.storage import FileSystemStorage


class CountingStorage(FileSystemStorage):
    """The filesystem storage, recording the name of every file it opens."""

    opened: ClassVar[list[str]] = []

    def _open(self, name, mode="rb"):
        CountingStorage.opened.append(name)
        return super()._open(name, mode)
