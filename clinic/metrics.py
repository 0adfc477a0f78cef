"""``GET /metrics`` in Prometheus text format, and the request-latency middleware.

Two kinds of figure, chosen by what stays correct with several processes (gunicorn workers,
Celery workers and beat, possibly on several machines):

- **State** (outbox rows by status, how late the oldest due message is, failures by error
  code) is read from the database at scrape time by collectors the apps register here. Every
  process sees the same database, so any web process answers for the whole deployment, and a
  restart resets nothing.
- **Events** (requests and their latency, bookings by outcome, SMS handed to the provider,
  dispatch latency) are prometheus-client counters and histograms. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (bin/supervise sets it), every process writes its own file
  there and a scrape sums them, so the figures cover all processes sharing that folder
  (docker-compose.yml shares one volume between web, worker and beat). Files are named by
  host name and pid, because processes in different containers can have the same pid.

Closed to the public: a ``Authorization: Bearer <METRICS_TOKEN>`` header when METRICS_TOKEN is
set; otherwise only requests from this machine that no proxy forwarded.
"""

from __future__ import annotations

import hmac
import os
import socket
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector


def _process_identifier() -> str:
    # Distinct for every running process, even in containers that share the metrics folder.
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


# Before any metric exists (bookings.metrics and reminders.metrics import this module first).
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)

REQUEST_LATENCY = Histogram(
    "aftercare_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status class",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_state_collectors: list[Collector] = []


def register_state_collector(collector: Collector) -> None:
    """Add a collector that reads current state (from the database) at scrape time. Apps call
    this from AppConfig.ready(); clinic never imports them."""
    if collector not in _state_collectors:
        _state_collectors.append(collector)


def _event_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


class _Collectors:
    def __init__(self, collectors: Iterable[Collector]):
        self._collectors = list(collectors)

    def collect(self):  # noqa: ANN201 - prometheus-client's collector protocol
        for collector in self._collectors:
            yield from collector.collect()


def _loopback(request: HttpRequest) -> bool:
    forwarded = "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META
    return request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"} and not forwarded


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    return _loopback(request)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    state = CollectorRegistry(auto_describe=False)
    state.register(_Collectors(_state_collectors))
    body = generate_latest(_event_registry()) + generate_latest(state)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class RequestLatencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        # The histogram's child for each (view, method, status class), found once: labels()
        # checks and joins its arguments and takes the metric's lock on every call. Children
        # live as long as the metric (nothing here removes one), so keeping them is safe; two
        # threads finding the same one at once get the same child.
        self._children: dict[tuple[str, str | None, int], Histogram] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # Route names, never raw paths: paths carry tokens and ids (unbounded label values).
        view = (match.view_name or match.route) if match else "unmatched"
        status_class = response.status_code // 100
        key = (view, request.method, status_class)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = REQUEST_LATENCY.labels(
                view=view, method=request.method, status=f"{status_class}xx"
            )
        child.observe(time.perf_counter() - started)
        return response
