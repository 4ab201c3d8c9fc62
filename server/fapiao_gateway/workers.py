"""`serve --workers N`: N gateway processes on one port, and the supervisor that keeps them.

One Python process serves from one core. The supervisor starts N workers (each a whole
gateway: `serve` with one worker) that all listen on the same port with SO_REUSEPORT, so the
kernel spreads new connections over them. It does not serve itself. It
- reserves the ports first (port 0 becomes a real one, the same for every worker),
- restarts a worker that dies (after 0.5 s, doubling up to 30 s while it keeps dying young),
  except one that found the configuration unusable (exit code 2): then all stop, with 2,
- forwards SIGTERM/SIGINT (graceful stop: it waits for the workers, then exits) and SIGHUP
  (reload the callers), and takes its workers down with it if it is killed (PDEATHSIG),
- gives the workers one directory for their metrics (telemetry/metrics.py), so /metrics on
  any worker reports them all, and drops a dead worker's live gauges from it.

What workers share goes through the configured stores: the ledger (a file or PostgreSQL,
never an in-memory SQLite), and tokens (Redis; or memory, where a fetch in one worker cannot
invalidate another's token: stable tokens, Weixin Work). Intents are owned per process, so
recovery works across workers as it does across replicas. A client connection stays with
the worker that accepted it: a client spreads its load with several channels (or behind a
load balancer), see README.
"""

import ctypes
import ctypes.util
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from prometheus_client.multiprocess import mark_process_dead
from sqlalchemy.engine import make_url

from fapiao_gateway.config import Settings
from fapiao_gateway.domain.accounts import Platform
from fapiao_gateway.ops.config_check import EXIT_UNUSABLE
from fapiao_gateway.telemetry.metrics import MULTIPROCESS_DIR
from fapiao_gateway.wechat.accounts import TokenEndpoint

log = logging.getLogger("fapiao_gateway.workers")

#: A worker that ran this long before dying was healthy: its next restart is quick again.
HEALTHY_SECONDS = 10.0
FIRST_RESTART_SECONDS = 0.5
LONGEST_RESTART_SECONDS = 30.0
#: Beyond the shutdown grace, how long the supervisor waits for workers before SIGKILL.
_STOP_MARGIN_SECONDS = 10.0


class WorkersRefused(Exception):
    """The configuration cannot run the workers asked for (the message says why)."""


def available_cores(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may use: those it may run on, and no more than its container's
    CPU quota (cgroup v2 cpu.max, e.g. "200000 100000" for 2 CPUs) allows."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cgroup_cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit readable: the affinity it is
    return max(1, cores)


def why_not_shared(settings: Settings) -> str | None:
    """Why workers of these settings could not share what they must; None when they can."""
    if settings.sandbox:
        return "sandbox mode emulates WeChat inside the process: each worker would have its own"
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return "an in-memory SQLite ledger belongs to one process: use a file or PostgreSQL"
    if settings.token_store == "memory":
        rotating = [
            a.alias or a.appid or a.corp_id
            for a in settings.accounts
            if a.platform is Platform.COMPONENT or a.token_endpoint is TokenEndpoint.CLASSIC
        ]
        if rotating or settings.components:
            names = ", ".join(rotating) or "the third-party platforms"
            return (
                f"{names} get tokens that a fetch in one worker would invalidate in the "
                'others: set token_store = "redis" so that workers share them'
            )
    return None


def worker_count(settings: Settings, requested: int | None) -> int:
    """How many workers to run: `requested` (or the `workers` setting); 0 means one per core
    in production and one in sandbox mode. Asked for explicitly, a count the configuration
    cannot share state across is refused (WorkersRefused); chosen automatically, it falls
    back to one worker and logs why."""
    asked = settings.workers if requested is None else requested
    count = asked or (1 if settings.sandbox else available_cores())
    if count == 1:
        return 1
    reason = why_not_shared(settings)
    if reason is None:
        return count
    if asked:
        raise WorkersRefused(f"cannot run {count} workers: {reason}")
    log.info("running one worker, not %d (one per core): %s", count, reason)
    return 1


def reserve(listen: str) -> tuple[socket.socket, str]:
    """Binds `listen` (host:port, port 0 for any) with SO_REUSEPORT and keeps the socket, not
    listening, so that the port stays this gateway's; returns it and the address with the
    real port, for the workers to listen on."""
    host, _, port = listen.rpartition(":")
    bare = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((bare, int(port)))
    except OSError as exc:
        sock.close()
        raise WorkersRefused(f"cannot listen on {listen}: {exc.strerror}") from None
    return sock, f"{host}:{sock.getsockname()[1]}"


def _die_with_parent() -> None:
    """In a new worker: SIGTERM when the supervisor dies, however it dies (Linux)."""
    name = ctypes.util.find_library("c")
    if name is not None:
        pr_set_pdeathsig = 1
        ctypes.CDLL(name).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextmanager
def metrics_directory(env: dict[str, str]) -> Iterator[str]:
    """The directory the workers share their metrics in: the operator's, when
    PROMETHEUS_MULTIPROC_DIR names one (kept), else a new one (removed afterwards)."""
    given = env.get(MULTIPROCESS_DIR)
    if given:
        yield given
        return
    made = tempfile.mkdtemp(prefix="fapiao-metrics-")
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@dataclass
class _Slot:
    """One worker's place: its process now, and how its last ones fared."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Runs `count` workers made by `command(index)` until told to stop."""

    command: Callable[[int], Sequence[str]]
    count: int
    env: dict[str, str]
    grace_seconds: float
    _slots: list[_Slot] = field(default_factory=list)
    _stopping: bool = False
    _exit_code: int = 0

    def run(self) -> int:
        """Serves until SIGTERM or SIGINT; returns the exit code (0 after a clean stop, 2 when
        a worker found the configuration unusable)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        signal.signal(signal.SIGHUP, self._forward)
        self._slots = [_Slot(i) for i in range(self.count)]
        for slot in self._slots:
            self._start(slot)
        while not self._stopping:
            self._watch()
            time.sleep(0.1)
        return self._wait_for_workers()

    def _start(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen(  # noqa: S603 (our own command line)
            list(self.command(slot.index)), env=self.env, preexec_fn=_die_with_parent
        )
        slot.started, slot.restart_at = time.monotonic(), None
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    def _watch(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.restart_at is not None:
                if now >= slot.restart_at:
                    self._start(slot)
                continue
            assert slot.process is not None
            code = slot.process.poll()
            if code is None:
                continue
            metrics = self.env.get(MULTIPROCESS_DIR)
            if metrics:
                mark_process_dead(slot.process.pid, metrics)  # type: ignore[no-untyped-call]
            if code == EXIT_UNUSABLE:
                # The worker found the configuration unusable: so will every other one.
                log.error("worker %d refused the configuration: stopping", slot.index)
                self._stopping, self._exit_code = True, EXIT_UNUSABLE
                return
            lived = now - slot.started
            slot.failures = 0 if lived >= HEALTHY_SECONDS else slot.failures + 1
            delay = min(LONGEST_RESTART_SECONDS, FIRST_RESTART_SECONDS * 2**slot.failures)
            slot.restart_at = now + delay
            log.warning(
                "worker %d (pid %d) exited with %s after %.1f s; restarting it in %.1f s",
                slot.index,
                slot.process.pid,
                _exit_text(code),
                lived,
                delay,
            )

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self._stopping:
            log.info("%s: stopping the workers", signal.Signals(signum).name)
        self._stopping = True

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        for process in self._alive():
            process.send_signal(signum)

    def _alive(self) -> list[subprocess.Popen[bytes]]:
        return [
            s.process for s in self._slots if s.process is not None and s.process.poll() is None
        ]

    def _wait_for_workers(self) -> int:
        for process in self._alive():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds + _STOP_MARGIN_SECONDS
        while self._alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        late = self._alive()
        for process in late:
            log.error("worker pid %d did not stop in time: killed", process.pid)
            process.kill()
            process.wait()
        return self._exit_code or (1 if late else 0)


def _exit_text(code: int) -> str:
    if code < 0:
        return signal.Signals(-code).name
    return f"code {code}"
