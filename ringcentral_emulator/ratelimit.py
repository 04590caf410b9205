"""RingCentral's per-user, per-app, per-group rate limits, with the penalty box.

RingCentral documents (docs/ringcentral.md, "Rate limits"): each group (Light 50, Medium 40, Heavy 10,
Auth 5 requests) is counted per user and app over a 60 s window; the request that exceeds it gets 429 and
starts a 60 s penalty, and each request during the penalty restarts it.

This limiter uses a **sliding window log**: a request is admitted only if fewer than `limit` requests were
admitted in the last `window` seconds. That is stricter than a fixed window (which admits up to twice the
limit across a window boundary), so a client that paces itself to pass here passes RingCentral whichever
kind it uses. When the penalty ends the log is cleared: the client starts a fresh window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from ringcentral_emulator.wire import Response, rest_error


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    group: str
    limit: int
    remaining: int
    window: float
    retry_after: int | None = None  # seconds, on refusal

    def headers(self) -> list[tuple[str, str]]:
        """RingCentral's rate-limit headers, sent on every response of a limited group."""
        return [
            ("X-Rate-Limit-Group", self.group),
            ("X-Rate-Limit-Limit", str(self.limit)),
            ("X-Rate-Limit-Remaining", str(self.remaining)),
            ("X-Rate-Limit-Window", _seconds(self.window)),
        ]


def too_many(verdict: Verdict) -> Response:
    """The 429 a refused request gets (CMN-301), with the group's headers and `Retry-After`: one answer for
    the API, the media origin and the OAuth endpoints alike."""
    return rest_error(429, "CMN-301", "Request rate exceeded").with_headers(
        [*verdict.headers(), ("Retry-After", str(verdict.retry_after or 1))]
    )


@dataclass
class _Bucket:
    admitted: deque[float] = field(default_factory=deque)
    penalty_until: float = 0.0


class RateLimiter:
    """Thread-safe sliding-window limiter keyed by (who, group)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[Hashable, str], _Bucket] = {}

    def check(self, who: Hashable, group: str, limit: int, window: float, penalty: float) -> Verdict:
        """Admit or refuse one request of `group` for `who`, recording it if admitted."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault((who, group), _Bucket())
            if now < bucket.penalty_until:
                # Each request during the penalty restarts it.
                bucket.penalty_until = now + penalty
                return Verdict(False, group, limit, 0, window, _retry_after(penalty))
            while bucket.admitted and bucket.admitted[0] <= now - window:
                bucket.admitted.popleft()
            if len(bucket.admitted) >= limit:
                bucket.admitted.clear()
                bucket.penalty_until = now + penalty
                return Verdict(False, group, limit, 0, window, _retry_after(penalty))
            bucket.admitted.append(now)
            return Verdict(True, group, limit, limit - len(bucket.admitted), window)


def _retry_after(penalty: float) -> int:
    return max(1, math.ceil(penalty))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
