"""The archive in a directory: each document a file named by its SHA-256, under a two-level
fan-out (ab/cd/abcd...), written to a temporary name and renamed, so a reader never sees half
a file and a crash leaves none. Content addressing makes storing idempotent: the same bytes
are one file however often they are archived."""

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from fapiao_gateway.domain.documents import sha256_hex

_HEX = frozenset("0123456789abcdef")


class DirectoryArchive:
    """services.ports.ArchiveStore on a local (or mounted) directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, digest: str) -> Path:
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    async def put(self, data: bytes) -> str:
        """Stores `data`; returns its digest."""
        digest = sha256_hex(data)
        await asyncio.to_thread(self._write, digest, data)
        return digest

    def _write(self, digest: str, data: bytes) -> None:
        path = self.path_of(digest)
        if path.exists() and path.stat().st_size == len(data):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def chunks(self, digest: str, chunk_size: int) -> AsyncIterator[bytes]:
        """The stored bytes of `digest`, in chunks (FileNotFoundError if absent)."""
        handle = await asyncio.to_thread(self.path_of(digest).open, "rb")
        try:
            while True:
                chunk = await asyncio.to_thread(handle.read, chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            handle.close()

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every stored file, with the digest its name claims (for `archive verify`)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.name, path
