"""What the wrk-driven benches share: the Lua hook that makes wrk print one line of results,
and the reader of that line."""

from __future__ import annotations

from typing import NamedTuple

# wrk reports p50/p95/p99 and every kind of error through this hook, one line to parse.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %d %d\\n",
    summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


class WrkResult(NamedTuple):
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    socket_errors: int  # connect, read, write and timeouts
    status_errors: int  # answers outside 2xx/3xx


def wrk_result(output: str) -> WrkResult:
    """The figures WRK_REPORT printed into wrk's output."""
    line = next(row for row in output.splitlines() if row.startswith("RESULT "))
    count, micros, p50, p95, p99, socket_errors, status_errors = line.split()[1:]
    return WrkResult(
        int(count),
        int(micros) / 1e6,
        float(p50),
        float(p95),
        float(p99),
        int(socket_errors),
        int(status_errors),
    )
