"""A faithful RingCentral emulator: a real HTTP server on loopback for tests, the demo and benchmarks.

    from ringcentral_emulator import Emulator, EmulatorConfig, App

    with Emulator(EmulatorConfig(rate_limits_enabled=False)) as emu:
        emu.base_url   # "http://127.0.0.1:PORT"

It honours RingCentral's documented behaviour, written down with its public sources in the repository's
docs/ringcentral.md: exact redirect URI matching, single-use 60 s codes, PKCE, refresh-token rotation with
its grace period (or strict), session revocation, rate-limit groups with the penalty box, and paged call
logs of any size. `python -m ringcentral_emulator` runs it on its own.

A package of its own that imports nothing from rcauth: a test double shares no code with the client it
tests, so a bug in one cannot hide the same bug in the other.
"""

from ringcentral_emulator.config import DEMO_JWT, App, EmulatorConfig, User
from ringcentral_emulator.server import Emulator

__all__ = ["DEMO_JWT", "App", "Emulator", "EmulatorConfig", "User"]
