"""Reading a gateway's /metrics as Prometheus would: scraped over HTTP, parsed by
prometheus_client's own parser."""

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass
class Scrape:
    """One scrape's samples."""

    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels`."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def label_values(self) -> set[str]:
        return {value for s in self.samples for value in s.labels.values()}

    def names(self) -> set[str]:
        return {s.name for s in self.samples}


async def scrape(http_port: int | None) -> Scrape:
    assert http_port is not None, "the gateway needs http_listen to serve /metrics"
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"http://127.0.0.1:{http_port}/metrics")
    reply.raise_for_status()
    assert reply.headers["content-type"].startswith("text/plain")
    families = text_string_to_metric_families(reply.text)
    return Scrape([sample for family in families for sample in family.samples])
