"""Ctrl-C around a token rotation: held while a request may be rotating the pair, honoured between tries.

RingCentral's refresh tokens are single-use. Between sending a refresh and storing the pair it
returns, an interrupt would lose the only refresh token that still works, so `deferred()` holds
SIGINT for that stretch. But a refresh may also be waiting to try again (a 429's Retry-After is up
to 60 s): nothing is in flight then, and the stored pair is still the good one, so `sleep()` (the
retry policy's pause) honours a held Ctrl-C at once instead of after the wait.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

# The SIGINTs held by the innermost `deferred()` block of the main thread, or None outside one.
_held: list[tuple[int, Any]] | None = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block ends (it is bounded by HTTP timeouts), then deliver it."""
    global _held
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[tuple[int, Any]] = []
    outer, _held = _held, held
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _held = outer
        if held and callable(previous):
            previous(*held[0])


def raise_if_held() -> None:
    """Deliver a held Ctrl-C now: for points where nothing is in flight (between tries)."""
    if _held and threading.current_thread() is threading.main_thread():
        _held.clear()
        raise KeyboardInterrupt


def sleep(seconds: float) -> None:
    """`time.sleep`, cut short by a Ctrl-C that `deferred()` is holding."""
    if _held is None or threading.current_thread() is not threading.main_thread():
        time.sleep(seconds)  # nothing held: Ctrl-C interrupts the sleep itself
        return
    end = time.monotonic() + seconds
    while True:
        raise_if_held()
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))
