"""`python -m ringcentral_emulator`: the emulator on its own, with the same options as `rcauth emulator`.

The package stands alone (it imports nothing from rcauth), so a test suite or a script in any language can
start a RingCentral double without the rcauth CLI.
"""

from __future__ import annotations

from ringcentral_emulator.cli import emulator_command


def main() -> None:
    emulator_command(prog_name="python -m ringcentral_emulator")


if __name__ == "__main__":
    main()
