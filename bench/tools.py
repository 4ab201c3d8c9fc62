"""The Debian tools the benchmarks need, and a clear refusal when they are missing."""

from bench import procs

#: Tool -> the Debian package that has it.
TOOLS = {"nginx": "nginx", "h2load": "nghttp2-client"}
INSTALL = "scripts/install-bench-tools"


def missing() -> list[str]:
    """The tools not installed here."""
    return [tool for tool in TOOLS if procs.which(tool) is None]


def how_to_install(absent: list[str]) -> str:
    packages = " ".join(TOOLS[tool] for tool in absent)
    return (
        f"{', '.join(absent)} not installed: run `{INSTALL}` (or `make bench-tools`; "
        f"as root, it runs `apt-get install {packages}`)"
    )


def require() -> None:
    """Stops the benchmark with how to install what it lacks."""
    absent = missing()
    if absent:
        raise SystemExit(f"bench: {how_to_install(absent)}")
