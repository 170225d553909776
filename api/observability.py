"""Request ids and Prometheus metrics for every request, and the /metrics exposition.

Each request gets an id (the caller's X-Request-ID when it sends a sane one, otherwise a
new one), carried by every log line written while it is handled and returned in the
X-Request-ID response header. Metrics use a registry per app (no process globals):

    certify_http_requests_total{method,route,status}      requests, by route template
    certify_http_request_duration_seconds{method,route}   latency histogram
    certify_queue_jobs{queue,state}                       depth of each RQ queue by state
    certify_attempts{status}                              attempts not yet decided
    certify_job_stage_duration_ms{stage}                  engine timings, all workers
    certify_decisions_total{status,reason}                outcomes by reason, all workers
    certify_rate_limits_in_process                        1 while Redis is unreachable and
                                                          rate limits are counted per process
    certify_fairness_pass_rate{dimension,band}            this year's pass rate of each band
                                                          (all regions, from the summaries)
    certify_fairness_flagged{dimension,band}              1 when the band's pass rate is more
                                                          than CERTIFY_FAIRNESS_MARGIN below
                                                          the overall rate (issue 14)
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from models import Attempt, AttemptStatus
from service.context import Services
from service.infra.logs import log_context
from service.infra.metrics import STAGE_BUCKETS_MS, read_decisions, read_stage_histograms
from service.stats.fairness import FairnessRules, fairness_figures
from service.stats.scope import StatsScope

__all__ = ["ObservabilityMiddleware", "make_registry", "REQUEST_ID_HEADER"]

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _DeploymentCollector:
    """Reads queue depth, undecided attempts and worker metrics at scrape time."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self):  # noqa: ANN201 - prometheus_client protocol
        services = self.services
        queue_depth = GaugeMetricFamily(
            "certify_queue_jobs", "Jobs in each RQ queue (certifications, webhooks, bulk jobs) by state",
            labels=["queue", "state"],
        )
        try:
            for queue in services.queues.values():
                queue_depth.add_metric([queue.name, "queued"], queue.count)
                queue_depth.add_metric([queue.name, "started"], StartedJobRegistry(queue=queue).count)
                queue_depth.add_metric([queue.name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
                queue_depth.add_metric([queue.name, "failed"], FailedJobRegistry(queue=queue).count)
            stages = read_stage_histograms(services.redis)
            decisions = read_decisions(services.redis)
            redis_ok = True
        except Exception:  # noqa: BLE001 - Redis down: export what we can
            stages, decisions, redis_ok = {}, {}, False
        yield queue_depth
        attempts = GaugeMetricFamily("certify_attempts", "Attempts not yet decided", labels=["status"])
        try:
            with services.sessions() as db:
                rows = db.execute(
                    select(Attempt.status, func.count())
                    .where(Attempt.status.in_([AttemptStatus.QUEUED, AttemptStatus.PROCESSING]))
                    .group_by(Attempt.status)
                ).all()
            found = dict(rows)
            for status in (AttemptStatus.QUEUED, AttemptStatus.PROCESSING):
                attempts.add_metric([status], found.get(status, 0))
            yield attempts
        except Exception:  # noqa: BLE001 - database down
            pass
        histogram = HistogramMetricFamily(
            "certify_job_stage_duration_ms", "Engine stage durations per job (ms)", labels=["stage"]
        )
        for stage, parts in sorted(stages.items()):
            buckets = [(str(b), parts.get(str(b), 0.0)) for b in STAGE_BUCKETS_MS]
            buckets.append(("+Inf", parts.get("count", 0.0)))
            histogram.add_metric([stage], buckets, sum_value=parts.get("sum", 0.0))
        yield histogram
        outcomes = CounterMetricFamily(
            "certify_decisions", "Recorded outcomes by status and reason code", labels=["status", "reason"]
        )
        for (status, reason), count in sorted(decisions.items()):
            outcomes.add_metric([status, reason], count)
        yield outcomes
        yield from self._fairness()
        yield GaugeMetricFamily(
            "certify_rate_limits_in_process",
            "1 while Redis is unreachable and rate limits are counted in this process",
            value=0 if redis_ok and services.limiter.mode == "redis" else 1,
        )


    def _fairness(self):  # noqa: ANN202 - metric families
        services = self.services
        rates = GaugeMetricFamily("certify_fairness_pass_rate", "This year's pass rate by fairness band",
                                  labels=["dimension", "band"])
        flags = GaugeMetricFamily(
            "certify_fairness_flagged", "1 when a band's pass rate is more than the margin below the overall rate",
            labels=["dimension", "band"],
        )
        try:
            rules = FairnessRules(margin=services.settings.fairness_margin,
                                  min_attempts=services.settings.fairness_min_attempts)
            with services.sessions() as db:
                figures = fairness_figures(db, scope=StatsScope(period=str(services.clock().year), prefixes=None),
                                           rules=rules)
        except Exception:  # noqa: BLE001 - database down: the other metrics still go out
            return
        for dimension in figures["dimensions"]:
            for band in dimension["bands"]:
                if band["pass_rate"] is not None:
                    rates.add_metric([dimension["dimension"], band["band"]], band["pass_rate"])
                flags.add_metric([dimension["dimension"], band["band"]], 1 if band["flagged"] else 0)
        yield rates
        yield flags


def make_registry(services: Services) -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry(auto_describe=False)
    requests = Counter(
        "certify_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "certify_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    )
    registry.register(_DeploymentCollector(services))
    return registry, requests, latency


class ObservabilityMiddleware:
    def __init__(self, app: Any, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _SANE_ID.match(sent) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                method = scope.get("method", "")
                self.requests.labels(method, template, str(status)).inc()
                self.latency.labels(method, template).observe(time.perf_counter() - started)
