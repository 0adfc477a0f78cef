"""How fast is this machine right now? A fixed pure-Python workload, timed in CPU seconds.

The benches' figures are wall-clock medians on a shared 2-core virtual machine whose speed
drifts: the same commit measured free_slots at 2.84 and 5.01 ms, and a dispatch claim at 8.0
and 20.0 ms, half an hour apart. ``make bench`` prints this probe before each bench, so a
figure can be read against how fast the host was at the time (higher = slower host), and a
change is judged by runs whose probes agree.

Run:  .venv/bin/python bench/machine.py
"""

from __future__ import annotations

import statistics
import time


def _workload() -> int:
    # Dictionary, list and integer work, as the walks and the ORM do; no allocation-heavy
    # part, so the collector does not make it noisier than the host is.
    table: dict[int, int] = {}
    total = 0
    for number in range(200_000):
        table[number & 1023] = number
        total += table.get(number >> 3 & 1023, 0) % 7
    return total


def probe_ms(repeats: int = 15) -> float:
    """Median CPU milliseconds of the fixed workload."""
    timings = []
    for _ in range(repeats):
        started = time.process_time()
        _workload()
        timings.append((time.process_time() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    print(
        f"machine probe: {probe_ms():.1f} ms of CPU for a fixed Python workload (higher = slower host)"
    )


if __name__ == "__main__":
    main()
