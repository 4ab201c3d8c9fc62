"""Processes the benchmark starts, and what /proc says about them (Linux only).

CPU and memory are read for a process and all its descendants, so a server that forks
workers is measured whole: CPU from utime+stime in /proc/<pid>/stat, peak memory from VmHWM
(reset before each measurement through /proc/<pid>/clear_refs), threads and open file
descriptors from /proc/<pid>/status and /proc/<pid>/fd.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: The repository: processes start here, so `python -m bench.<module>` finds this package.
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Returns once 127.0.0.1:port accepts connections; fails if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{process.args!r} did not listen on {port} in {timeout:g} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of a process's log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running(
    args: Sequence[str], log: Path, *, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `args` with stdout and stderr to `log`; SIGTERM (then SIGKILL) on the way out."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(args),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Ends a process this module started (and its process group: workers too)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()


@contextlib.contextmanager
def workdir(keep: Path | None, prefix: str) -> Iterator[Path]:
    """`keep` (made if need be, left behind for a look at the logs), else a temp dir."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as temp:
        yield Path(temp)


def which(name: str) -> str | None:
    """A tool on PATH, or in the sbin directories Debian puts nginx in."""
    return shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")


def tree(pid: int) -> list[int]:
    """`pid` and its descendants that are alive."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    children = Path(f"/proc/{current}/task/{task}/children").read_text()
                    todo.extend(int(child) for child in children.split())
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` and its descendants, in seconds."""
    total = 0
    for member in tree(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{member}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLOCK_TICKS


def wait_idle(pid: int, timeout: float = 60.0) -> bool:
    """Waits until the tree of `pid` uses no CPU for a quarter second (calls a load generator
    gave up on may still be running in the server); False if it is still busy at `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(0.25)
        if cpu_seconds(pid) - before <= 1 / CLOCK_TICKS:
            return True
    return False


def _status(pid: int) -> dict[str, str]:
    with contextlib.suppress(OSError):
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)
    return {}


def _kib(value: str) -> int:
    return int(value.split()[0]) if value else 0


def reset_peak_memory(pid: int) -> bool:
    """Resets VmHWM of the tree to the current RSS; False where the kernel does not allow it
    (then the peak is the peak since the process started)."""
    done = True
    for member in tree(pid):
        try:
            Path(f"/proc/{member}/clear_refs").write_text("5")
        except OSError:
            done = False
    return done


@dataclass(frozen=True)
class Usage:
    """A snapshot of a process tree: memory in MiB, counts summed over its processes."""

    rss_mib: float
    peak_mib: float
    threads: int
    fds: int
    processes: int


def usage(pid: int) -> Usage:
    """What the tree of `pid` holds right now (peak: VmHWM since the last reset)."""
    members = tree(pid)
    rss = peak = threads = fds = 0
    for member in members:
        status = _status(member)
        rss += _kib(status.get("VmRSS", ""))
        peak += _kib(status.get("VmHWM", ""))
        threads += int(status.get("Threads", "0").strip() or 0)
        with contextlib.suppress(OSError):
            fds += len(os.listdir(f"/proc/{member}/fd"))
    return Usage(rss / 1024, peak / 1024, threads, fds, len(members))
