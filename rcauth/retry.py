"""Retries for transient failures, bounded in count *and* in time.

urllib3's `Retry` bounds the number of tries and each pause, not their sum: six tries that each wait
out a long `Retry-After` could keep a command busy for minutes. `BoundedRetry` adds a budget: once the
first failure has happened, no further try starts if its pause would end more than `budget` seconds
later. Mounted on a `requests` adapter, it is the one place transient failures are retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from urllib3.exceptions import MaxRetryError, ProxyError, ResponseError
from urllib3.util.retry import Retry

from rcauth import interrupts

# RingCentral: a 429 without Retry-After means wait at least 30 s; a backoff of 0 s (urllib3's first)
# would ask again during the penalty, which restarts it.
MIN_429_PAUSE = 30.0


class BoundedRetry(Retry):
    """`Retry` plus `budget`: seconds from the first failure after which no further try starts.

    Only `status_forcelist` makes a status retried. urllib3 would also retry, silently, any 413, 429
    or 503 that carries Retry-After; a 429 belongs to the API client, which shows the wait and knows
    RingCentral's penalty rules (see `rcauth.client`).

    A proxy that cannot be reached is not retried either: urllib3 counts it as a connect error, but
    a proxy that refuses the connection (a local one that is not running, a wrong port) will not be
    there a few seconds later, and retrying only makes the user wait through the whole budget
    before being told what is wrong.
    """

    RETRY_AFTER_STATUS_CODES = frozenset()

    def __init__(
        self,
        *args: Any,
        budget: float = 30.0,
        deadline: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = interrupts.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        # Set by `new()` on the first failure; the configured instance mounted on an adapter keeps None,
        # so every request starts its own budget.
        self.deadline = deadline
        # The clock the budget is measured on and the pause between tries: given, so a test can run a
        # minute of backoff in no time without patching `time` in any module.
        self._monotonic = monotonic
        self._pause = sleep

    def new(self, **kwargs: Any) -> BoundedRetry:
        kwargs.setdefault("budget", self.budget)
        kwargs.setdefault(
            "deadline", self.deadline if self.deadline is not None else self._monotonic() + self.budget
        )
        kwargs.setdefault("monotonic", self._monotonic)
        kwargs.setdefault("sleep", self._pause)
        return super().new(**kwargs)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BoundedRetry:
        if isinstance(error, ProxyError):
            raise MaxRetryError(_pool, url, error) from error
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        pause = new._planned_pause(response)
        if new.deadline is not None and self._monotonic() + pause > new.deadline:
            reason = error or ResponseError(f"gave up after {len(new.history)} tries in {new.budget:g} s")
            raise MaxRetryError(_pool, url, reason) from reason
        return new

    def sleep(self, response: Any = None) -> None:
        """Pause before the next try as urllib3 would (Retry-After, else backoff), but stop at once on
        a Ctrl-C held during a token refresh: between tries nothing is in flight (`rcauth.interrupts`)."""
        pause = self._planned_pause(response)
        if pause > 0:
            self._pause(pause)

    def _planned_pause(self, response: Any) -> float:
        """The pause `sleep()` is about to take: the answer's Retry-After, else the backoff (at least
        `MIN_429_PAUSE` after a 429)."""
        if response is not None and self.respect_retry_after_header:
            try:
                retry_after = self.get_retry_after(response)
            except Exception:  # noqa: BLE001 - an unreadable Retry-After: urllib3 falls back to backoff too
                retry_after = None
            if retry_after:
                return retry_after
        backoff = self.get_backoff_time()
        if getattr(response, "status", None) == 429:
            return max(backoff, MIN_429_PAUSE)
        return backoff
