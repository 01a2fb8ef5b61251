"""Latency of the public form at a fixed offered rate, open loop (``load_benchmark``'s second figure).

wrk is closed loop: a connection sends its next request only when the last one has answered, so
a server that stalls for a second is simply sent less during that second and the stall hardly
shows in the percentiles (coordinated omission). Debian has no ``wrk2``, so this small generator
does what it does: request *i* is due at ``start + i / rate`` whatever happened before, it is sent
on its own connection at that time (gunicorn's sync workers close every connection after one
answer anyway), and its latency runs from when it was DUE to the last byte of the answer. A
request that had to wait for a stalled server is counted with the wait.

One asyncio loop in the command's process: at 100 requests/s it costs a few per cent of a core,
little beside the two gunicorn workers it measures.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def schedule(rate: float, seconds: float) -> list[float]:
    """When each request is due, in seconds from the start: evenly spaced at ``rate`` per second."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("rate and seconds must be positive")
    return [i / rate for i in range(int(round(rate * seconds)))]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in [0, 1]): a value that was measured, never interpolated."""
    if not values:
        raise ValueError("no values")
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3})")
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def parse_head(head: bytes) -> tuple[int, int | None]:
    """Status code and Content-Length (None when absent) of a response head."""
    status = STATUS_LINE.match(head)
    if status is None:
        raise ValueError(f"not an HTTP/1 response: {head[:40]!r}")
    length = CONTENT_LENGTH.search(head)
    return int(status.group(1)), int(length.group(1)) if length else None


@dataclass
class Latency:
    rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # of the answered 2xx/3xx requests
    errors: int = 0  # other statuses, refused or reset connections, timeouts
    first_error: str = ""
    elapsed: float = 0.0  # from the first request due to the last answer

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + self.errors

    def ms(self, fraction: float) -> float:
        return round(percentile(self.latencies_ms, fraction), 1) if self.latencies_ms else float("nan")

    def as_dict(self) -> dict:
        return {
            "offered_requests_per_s": self.rate, "seconds": self.seconds, "sent": self.sent,
            "answered_requests_per_s": round(len(self.latencies_ms) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": self.ms(0.5), "p90_ms": self.ms(0.9), "p99_ms": self.ms(0.99), "max_ms": self.ms(1.0),
            "errors": self.errors, "first_error": self.first_error,
        }


async def _one(host: str, port: int, request: bytes, timeout: float) -> int:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status, length = parse_head(head)
        if length is None:
            await asyncio.wait_for(reader.read(), timeout)  # to the close
        else:
            await asyncio.wait_for(reader.readexactly(length), timeout)
        return status
    finally:
        writer.close()


async def _drive(host: str, port: int, request: Callable[[int], bytes], result: Latency, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    due_offsets = schedule(result.rate, result.seconds)
    start = loop.time() + 0.1

    async def send(number: int, due: float) -> None:
        await asyncio.sleep(due - loop.time())
        try:
            status = await _one(host, port, request(number), timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            result.errors += 1
            result.first_error = result.first_error or f"{type(error).__name__}: {error}"
            return
        if 200 <= status < 400:
            result.latencies_ms.append((loop.time() - due) * 1000)
        else:
            result.errors += 1
            result.first_error = result.first_error or f"HTTP {status}"

    await asyncio.gather(*(send(number, start + offset) for number, offset in enumerate(due_offsets, 1)))
    result.elapsed = loop.time() - start


def run(host: str, port: int, request: Callable[[int], bytes], *, rate: float, seconds: float,
        timeout: float = 30) -> Latency:
    """Send ``request(n)`` (the whole HTTP/1.1 request, n from 1) at ``rate`` per second for ``seconds``."""
    result = Latency(rate=rate, seconds=seconds)
    asyncio.run(_drive(host, port, request, result, timeout))
    return result
