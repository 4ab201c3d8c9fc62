"""The container image: hadolint finds nothing, the structure is what deploy/README.md promises
(multi-stage, non-root, health check, the gateway as PID 1), and what the build stage installs
builds from exactly the files .dockerignore lets in. Where a Docker engine answers, the image
is built for real."""

import fnmatch
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each logical line: continuations joined, comments dropped."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in logical.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), " ".join(rest.split())))
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, check=False
    )


def test_hadolint_finds_nothing() -> None:
    result = hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_is_really_linting(tmp_path: Path) -> None:
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python:latest\nRUN apt-get install curl\nCMD fapiao-gateway\n")
    result = hadolint(sloppy)
    assert result.returncode != 0
    assert {"DL3007", "DL3008"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_it_builds_in_one_stage_and_runs_from_another_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    build, runtime = stages(text)
    assert build[0][1].endswith("AS build") and runtime[0][1].endswith("AS runtime")
    args = dict(
        arg.split("=", 1) for kind, arg in instructions(text) if kind == "ARG" and "=" in arg
    )
    user = dict(runtime)["USER"]
    uid = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], user).split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, user

    runs = " && ".join(arg for kind, arg in build if kind == "RUN")
    venv = re.search(r"python -m venv (\S+)", runs)
    assert venv is not None
    assert f"--from=build {venv.group(1)} {venv.group(1)}" in dict(runtime)["COPY"]


def test_the_gateway_is_pid_1_and_checks_its_own_health() -> None:
    runtime = dict(stages(DOCKERFILE.read_text())[-1])
    assert runtime["ENTRYPOINT"] == '["fapiao-gateway"]'  # exec form: signals reach it
    assert runtime["CMD"] == '["serve"]'
    assert runtime["HEALTHCHECK"].endswith('CMD ["fapiao-gateway", "health"]')
    assert runtime["EXPOSE"] == "50051 8081"
    assert "FAPIAO_LISTEN=0.0.0.0:50051" in runtime["ENV"]


def _admitted(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore lets `path` into the build context (last matching rule wins)."""
    admitted = True
    for raw in patterns:
        include = raw.startswith("!")
        pattern = raw.lstrip("!").rstrip("/")
        matches = pattern == "**" or path == pattern or path.startswith(pattern + "/")
        matches = matches or fnmatch.fnmatch(path, pattern)
        if pattern.startswith("**/"):
            parts = path.split("/")
            matches = matches or any(fnmatch.fnmatch(p, pattern[3:]) for p in parts)
        if matches:
            admitted = include
    return admitted


def _context(destination: Path) -> list[str]:
    """Copies the files .dockerignore admits to `destination`; returns their paths."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # The working tree as git sees it (what `docker build .` sends, less the ignored files).
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    admitted = [path for path in tracked if _admitted(path, patterns)]
    for path in admitted:
        (destination / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, destination / path)
    return admitted


def test_the_context_holds_what_copy_needs_and_nothing_else(tmp_path: Path) -> None:
    admitted = _context(tmp_path)
    build = stages(DOCKERFILE.read_text())[0]
    sources = [arg.split()[:-1] for kind, arg in build if kind == "COPY"]
    for source in (s for group in sources for s in group):
        assert (tmp_path / source).exists(), f"COPY {source}: kept out by .dockerignore"
    assert not [p for p in admitted if p.startswith(("tests/", "deploy/", "bench/", ".git"))]


def test_what_the_image_installs_builds_from_that_context(tmp_path: Path) -> None:
    context, wheels = tmp_path / "context", tmp_path / "wheels"
    context.mkdir()
    _context(context)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",  # the dev install pins the same setuptools as the build
            "--quiet",
            "--wheel-dir",
            str(wheels),
            "./clients/python",
            ".",
        ],
        cwd=context,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (gateway_wheel,) = wheels.glob("fapiao_gateway-*.whl")
    packaged = set(zipfile.ZipFile(gateway_wheel).namelist())
    modules = {
        str(path.relative_to(ROOT / "server"))
        for path in (ROOT / "server/fapiao_gateway").rglob("*.py")
    }
    assert modules - packaged == set()  # the migrations and every module, not just packages
    assert "fapiao_gateway/py.typed" in packaged


def _docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _docker_engine(), reason="no Docker engine answers `docker info` here")
def test_the_image_builds_and_runs() -> None:
    tag = "fapiao-gateway:test-build"
    built = subprocess.run(
        ["docker", "build", "--quiet", "--tag", tag, str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr
    try:
        ran = subprocess.run(
            ["docker", "run", "--rm", tag, "--version"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert ran.stdout.startswith("fapiao-gateway "), ran.stderr
    finally:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True, check=False)
