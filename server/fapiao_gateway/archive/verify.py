"""`fapiao-gateway archive verify`: re-hashes every file of the directory store and holds it
against its name (its SHA-256) and the ledger's records, so bit rot, a truncated copy or a
file edited on disk is found before an auditor asks for the original."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fapiao_gateway.archive.directory import DirectoryArchive

_READ = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One file that no longer is what the archive says it is."""

    digest: str
    path: str
    #: DIGEST_MISMATCH (its bytes hash to `actual`), SIZE_MISMATCH, or MISSING (recorded as
    #: archived, no file).
    problem: str
    actual: str = ""


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


def verify_store(store: DirectoryArchive, recorded: Mapping[str, int]) -> VerifyReport:
    """Re-hashes every stored file; `recorded` is each archived digest and its size."""
    problems: list[Problem] = []
    seen: set[str] = set()
    checked = 0
    for claimed, path in store.stored():
        checked += 1
        seen.add(claimed)
        actual = _sha256(path)
        if actual != claimed:
            problems.append(Problem(claimed, str(path), "DIGEST_MISMATCH", actual))
        elif claimed in recorded and path.stat().st_size != recorded[claimed]:
            problems.append(Problem(claimed, str(path), "SIZE_MISMATCH", actual))
    for digest in sorted(set(recorded) - seen):
        problems.append(Problem(digest, str(store.path_of(digest)), "MISSING"))
    return VerifyReport(checked, tuple(problems))
