"""Ctrl-C, SIGTERM and SIGHUP around a token rotation: held while a request may be rotating the pair,
honoured between tries.

RingCentral's refresh tokens are single-use. Between sending a refresh and storing the pair it
returns, an interrupt would lose the only refresh token that still works, so `deferred()` holds
SIGINT for that stretch, and SIGTERM and SIGHUP too (a service manager stopping a job, a closed
terminal or SSH connection): each kills a process by default, which loses the session just the same.
A held signal is delivered when the block ends, once the pair is stored: SIGINT as KeyboardInterrupt
(exit 130), SIGTERM and SIGHUP as `Terminated` (exit 128 + the signal's number, 143 and 129, what a
shell reports for a process the signal killed). A signal the process ignores (`nohup` ignores SIGHUP)
stays ignored. But a refresh may also be waiting to try again (a 429's Retry-After is up to 60 s):
nothing is in flight then, and the stored pair is still the good one, so `sleep()` (the retry
policy's pause) honours a held signal at once instead of after the wait.

A sign-in is held the same way, from the token request that makes the grant until the session is
stored (or, if it cannot be, revoked); so is a sign-out, from the revocation until the session is
removed; and so is the revocation of the session a new sign-in replaced: every grant RingCentral
issued is stored or revoked before the process ends, whatever ends it.

Outside these blocks the `rcauth` program (only the program: `exit_on_termination`, installed by
`rcauth.cli` once `main` runs a command) turns SIGTERM and SIGHUP into `Terminated`, as Python turns
SIGINT into KeyboardInterrupt, so they end a command with one line and 143 or 129, through the same
cleanup as Ctrl-C. The library installs no handler of its own beyond a `deferred()` block, and puts back the
ones it found when the block ends. Only the main thread can hold signals (Python runs handlers
there): on another thread a block holds nothing, and a signal does what the program's handlers say.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from rcauth.errors import Terminated

# The signals `deferred()` holds, where the platform has them (Windows has no SIGHUP).
HELD_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class _Block:
    """One `deferred()` block: the signals it caught, and the handlers it replaced. (A plain class:
    every command imports this module, and making a dataclass costs about a millisecond.)"""

    __slots__ = ("previous", "held")

    def __init__(self, previous: dict[int, Any]) -> None:
        self.previous = previous
        self.held: list[tuple[int, Any]] = []


# The innermost `deferred()` block of the main thread, or None outside one.
_block: _Block | None = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (it is bounded by HTTP timeouts), then
    deliver the first one caught."""
    global _block
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    block = _Block(previous={})

    def hold(signum: int, frame: Any) -> None:
        block.held.append((signum, frame))

    for signum in HELD_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            block.previous[signum] = signal.signal(signum, hold)
    outer, _block = _block, block
    try:
        yield
    finally:
        for signum, handler in block.previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        _block = outer
        if block.held:
            _deliver(block, *block.held[0])


def _deliver(block: _Block, signum: int, frame: Any) -> None:
    """What the signal would have done outside the block: the handler it replaced (Python's SIGINT
    handler raises KeyboardInterrupt; an outer block holds it again), else end the process."""
    handler = block.previous.get(signum)
    if callable(handler):
        handler(signum, frame)
    elif signum == signal.SIGINT:
        raise KeyboardInterrupt
    else:
        raise Terminated(signum, signal.Signals(signum).name)


def exit_on_termination() -> None:
    """For the `rcauth` program, not the library (nor a program that calls `rcauth.cli.cli`): SIGTERM
    and SIGHUP raise `Terminated` in the main thread (exit 143 and 129, one line), so a command ends
    through its cleanup (a loopback receiver closed, output flushed) instead of dying mid-write. Only
    a signal left at its default is taken over: one inherited ignored (`nohup`) stays ignored."""
    for signum in HELD_SIGNALS:
        if signum != signal.SIGINT and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _terminate)


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(signum, signal.Signals(signum).name)


def raise_if_held() -> None:
    """Deliver a held signal now: for points where nothing is in flight (between tries)."""
    block = _block
    if block and block.held and threading.current_thread() is threading.main_thread():
        signum, frame = block.held[0]
        block.held.clear()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        _deliver(block, signum, frame)


def sleep(seconds: float) -> None:
    """`time.sleep`, cut short by a signal that `deferred()` is holding."""
    if _block is None or threading.current_thread() is not threading.main_thread():
        time.sleep(seconds)  # nothing held: Ctrl-C interrupts the sleep itself
        return
    end = time.monotonic() + seconds
    while True:
        raise_if_held()
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))
