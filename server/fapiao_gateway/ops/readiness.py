"""Readiness that tells the truth: the gRPC health status of fapiao.v1.InvoiceService follows
what the gateway depends on, probed in the background.

Every `interval` seconds each dependency is probed, within `timeout`: the ledger (SELECT 1)
and, when configured, Redis (PING). While any probe fails the service is NOT_SERVING, so
Kubernetes (readinessProbe on the service name) and gRPC load balancers send its calls
elsewhere; when every probe succeeds again it is SERVING. Each change is logged once
(WARNING when a dependency goes, INFO when it is back) and exported as fapiao_dependency_up.

Liveness is the server's own status (service ""): it stays SERVING while the process serves
at all, whatever its dependencies do, so an outage of the database makes replicas unready but
never gets them restarted (a restart would not bring the database back). A process whose
event loop is stuck does not answer the probe at all, which is what liveness is for.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from fapiao_gateway.api.server import SERVICE_NAME
from fapiao_gateway.domain.errors import GatewayError
from fapiao_gateway.telemetry.metrics import GatewayMetrics

log = logging.getLogger("fapiao_gateway.health")

Probe = Callable[[], Awaitable[object]]


class Readiness:
    """Probes the dependencies and sets the service's health status from the results."""

    def __init__(
        self,
        health: HealthServicer,
        probes: Mapping[str, Probe],
        *,
        interval: float,
        timeout: float,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._health = health
        self._probes = dict(probes)
        self._interval = interval
        self._timeout = timeout
        self._metrics = metrics
        #: The dependencies that failed their last probe.
        self.down: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fapiao-readiness")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def probe_once(self) -> None:
        """Probes every dependency now and publishes the result."""
        names = list(self._probes)
        results = await asyncio.gather(*(self._probe(name) for name in names))
        failed = {name: why for name, why in zip(names, results, strict=True) if why}
        for name in names:
            if self._metrics is not None:
                self._metrics.dependencies_up.labels(name).set(0 if name in failed else 1)
            if name in failed and name not in self.down:
                log.warning(
                    "%s unreachable (%s): health %s is NOT_SERVING until it answers",
                    name,
                    failed[name],
                    SERVICE_NAME,
                )
            elif name not in failed and name in self.down:
                log.info("%s answers again", name)
        was_ready = not self.down
        self.down = set(failed)
        if was_ready != (not self.down):
            status = (
                health_pb2.HealthCheckResponse.NOT_SERVING
                if self.down
                else health_pb2.HealthCheckResponse.SERVING
            )
            await self._health.set(SERVICE_NAME, status)
            if not self.down:
                log.info("every dependency answers: health %s is SERVING", SERVICE_NAME)

    async def _run(self) -> None:
        while True:
            await self.probe_once()
            await asyncio.sleep(self._interval)

    async def _probe(self, name: str) -> str:
        """ "" when the dependency answered, else why not (the error's type: no secrets)."""
        try:
            await asyncio.wait_for(self._probes[name](), self._timeout)
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except GatewayError as exc:  # the gateway's own messages carry no secret
            return exc.message
        except Exception as exc:
            return type(exc).__name__
        return ""
