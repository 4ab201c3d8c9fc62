"""Per-account health: whether WeChat currently accepts each configured account.

An account is broken while an API answers it with an account-side errcode (the gateway's IP
not whitelisted, the API or the invoice permission missing, a wrong secret at the token
endpoint: the rows that tell an operator to fix the account), and whole again once every API
that refused it has answered a call successfully. Its status is published in the gRPC health
service under `fapiao.v1.InvoiceService/account/<alias or appid>` (NOT_SERVING while broken),
and as the metric fapiao_account_up. The readiness of the whole service does not follow an
account: the other accounts still work, and taking replicas out of rotation would not mend it.
"""

import asyncio
import contextlib
from collections.abc import Mapping

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from fapiao_gateway.api.server import SERVICE_NAME
from fapiao_gateway.telemetry.metrics import GatewayMetrics

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def account_service(label: str) -> str:
    """The health service name of one account."""
    return f"{SERVICE_NAME}/account/{label}"


class AccountHealth:
    """Which accounts WeChat refuses, and which APIs refused them."""

    def __init__(self, labels: Mapping[str, str], metrics: GatewayMetrics | None) -> None:
        #: appid -> the name the account is shown by (its alias, else its appid).
        self._labels = dict(labels)
        self._refusing: dict[str, set[str]] = {appid: set() for appid in labels}
        self._metrics = metrics
        self._health: HealthServicer | None = None
        self._pushing: set[asyncio.Task[None]] = set()
        for appid in labels:
            self._publish_metric(appid)

    def label(self, appid: str) -> str:
        return self._labels.get(appid, appid)

    def broken(self, appid: str) -> bool:
        return bool(self._refusing.get(appid))

    def refused(self, appid: str, api: str) -> bool:
        """`api` refused the account with an account-side errcode; True when that broke it."""
        refusing = self._refusing.setdefault(appid, set())
        was_broken = bool(refusing)
        refusing.add(api)
        self._changed(appid)
        return not was_broken

    def answered(self, appid: str, api: str) -> bool:
        """`api` accepted the account; True when that mended it."""
        refusing = self._refusing.get(appid)
        if not refusing or api not in refusing:
            return False
        refusing.discard(api)
        self._changed(appid)
        return not refusing

    async def attach(self, health: HealthServicer) -> None:
        """Publishes every account's status in `health`, now and on every change."""
        self._health = health
        for appid in self._refusing:
            await health.set(account_service(self.label(appid)), self._status(appid))

    async def aclose(self) -> None:
        self._health = None
        for task in list(self._pushing):
            with contextlib.suppress(BaseException):
                await task

    def _status(self, appid: str) -> "health_pb2.HealthCheckResponse.ServingStatus":
        return NOT_SERVING if self.broken(appid) else SERVING

    def _changed(self, appid: str) -> None:
        self._publish_metric(appid)
        health = self._health
        if health is None:
            return
        task = asyncio.ensure_future(
            health.set(account_service(self.label(appid)), self._status(appid))
        )
        self._pushing.add(task)
        task.add_done_callback(self._pushing.discard)

    def _publish_metric(self, appid: str) -> None:
        if self._metrics is not None:
            self._metrics.accounts_up.labels(self.label(appid)).set(0 if self.broken(appid) else 1)
