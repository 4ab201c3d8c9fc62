"""Building each language's client once, and the commands that run its driver and example.

Builds are cached under .cache/clients/ (gitignored), keyed by a hash of the client's sources
and build script, so a second run reuses them; an older build of the same language is
removed when a new one is made. Where a toolchain is missing, `missing()` says precisely
what, and the tests skip with that message.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "clients"
NODE_BIN = ROOT / "node_modules" / ".bin"


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _debian_missing() -> str | None:
    check = subprocess.run(
        [ROOT / "scripts" / "install-debian-packages", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode == 0:
        return None
    return f"{check.stdout.strip()} (run scripts/install-debian-packages as root; make setup does)"


def _run(command: list[str], **options: object) -> None:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, **options
    )  # type: ignore[call-overload]
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


@dataclass(frozen=True)
class Client:
    """One language's client: how to build it, run its live driver and its example."""

    language: str
    sources: tuple[Path, ...]

    def missing(self) -> str | None:
        """What this machine lacks to build and run the client; None when nothing."""
        if self.language in ("go", "java"):
            return _debian_missing()
        if self.language == "typescript" and not (NODE_BIN / "tsc").exists():
            return "node_modules/.bin/tsc is missing (run `npm install`; make setup does)"
        return None

    def build(self) -> Path:
        """The build directory, built now unless the same sources were built before."""
        key = _digest(*self.sources)
        target = CACHE / f"{self.language}-{key}"
        if target.exists():
            return target
        CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{self.language}-", dir=CACHE))
        try:
            self._build_into(staging)
            for old in CACHE.glob(f"{self.language}-*"):
                if len(old.name) == len(target.name) and old != target:
                    shutil.rmtree(old, ignore_errors=True)
            os.replace(staging, target)
        except OSError:
            # Another worker finished the same build first: keep theirs.
            shutil.rmtree(staging, ignore_errors=True)
            if not target.exists():
                raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    def _build_into(self, out: Path) -> None:
        if self.language == "python":
            return  # runs from its sources
        # One Go build cache for every build: the Debian packages compile once.
        env = {**os.environ, "GOCACHE": str(CACHE / "go-build")}
        _run([str(ROOT / "clients" / self.language / "build.sh"), str(out)], env=env)

    def driver(self, built: Path) -> list[str]:
        """The command that runs the live test driver."""
        return self._command(built, "driver")

    def example(self, built: Path) -> list[str]:
        """The command that runs the read-and-lock example (its arguments follow)."""
        return self._command(built, "example")

    def _command(self, built: Path, which: str) -> list[str]:
        driver = which == "driver"
        match self.language:
            case "python":
                script = "test/live.py" if driver else "examples/read_and_lock.py"
                return [sys.executable, str(ROOT / "clients" / "python" / script)]
            case "typescript":
                script = "test/live.js" if driver else "examples/read-and-lock.js"
                return ["node", str(built / script)]
            case "go":
                return [str(built / ("live" if driver else "readandlock"))]
            case "java":
                main = (
                    "io.github.fapiaogateway.client.LiveTest"
                    if driver
                    else "io.github.fapiaogateway.examples.ReadAndLock"
                )
                jars = (built / "classpath").read_text().strip()
                return ["java", "-cp", f"{built / 'classes'}:{jars}", main]
        raise AssertionError(self.language)


CLIENTS = {
    "python": Client("python", (ROOT / "clients" / "python" / "test",)),
    "typescript": Client(
        "typescript",
        (
            ROOT / "clients" / "typescript" / "src",
            ROOT / "clients" / "typescript" / "test",
            ROOT / "clients" / "typescript" / "examples",
            ROOT / "clients" / "typescript" / "tsconfig.json",
            ROOT / "clients" / "typescript" / "tsconfig.live.json",
            ROOT / "clients" / "typescript" / "build.sh",
            ROOT / "package-lock.json",
        ),
    ),
    "go": Client("go", (ROOT / "clients" / "go",)),
    "java": Client(
        "java", (ROOT / "clients" / "java" / "src", ROOT / "clients" / "java" / "build.sh")
    ),
}
