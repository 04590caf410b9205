"""click's `CliRunner` as every test drives a command in-process: stdout and stderr kept apart.

click 8.2 and later always keep them apart (`result.stderr`) and dropped the `mix_stderr` argument;
click 8.1, the lowest rcauth allows (`bash scripts/test`'s lowest phase runs this suite on it), mixes
them unless told not to. `result.output` is stdout alone on 8.1 and both streams on 8.2+: tests read
`result.stdout` or `result.stderr`, whichever they mean.
"""

from __future__ import annotations

import inspect
from typing import Any

from click.testing import CliRunner


def cli_runner(**kwargs: Any) -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        kwargs.setdefault("mix_stderr", False)
    return CliRunner(**kwargs)
