"""The `rcauth` program: `python -m rcauth` and the console script both start here.

Two things about CPython's garbage collector make a short command slower than it need be, and this
is where rcauth deals with them (`bench/` measures both):

- Start-up creates some 40,000 objects that live as long as the process (modules, classes,
  functions of click, requests and rcauth); the collector would walk them dozens of times while
  they are being created, for nothing. Collection is paused until the command's modules are loaded;
  `rcauth.cli` then freezes what exists (`gc.freeze()`: never walked again) and resumes it, so a
  long listing collects as usual.
- At exit, CPython collects every generation more than once while it tears the modules down: about
  20 ms for a command that has loaded requests, more than rcauth's own modules take to load. The
  objects are freed at exit anyway, so they are frozen first and those collections skip them.
  Output is flushed and atexit handlers run as usual.
"""

import gc
import sys


def main() -> None:
    gc.disable()
    try:
        from rcauth.cli import main as run

        run()
    except KeyboardInterrupt:  # before click took over (while importing it): no traceback either
        print("Error: interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
