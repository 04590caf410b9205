"""The `rcauth` program: `python -m rcauth` and the console script both start here.

This is also the one place rcauth touches CPython's garbage collector, and only in its own process
(the library and `rcauth.cli` called in-process leave a host program's collector alone). Two of its
habits make a short command slower than it need be; together they cost a whoami about a fifth of its
CPU time (bench/README.md):

- Start-up creates tens of thousands of objects that live as long as the process (the modules,
  classes and functions of click and rcauth); the collector would walk them again and again while
  they are being created, for nothing. So collection is paused while the root command loads, then
  what exists is frozen (`gc.freeze()`: never walked again) and collection resumes before any
  command runs, so a long listing collects as usual.
- At exit, CPython collects every generation more than once while it tears the modules down, walking
  every object the command loaded (requests and all) although they are freed anyway. Frozen first,
  they are skipped. Output is flushed and atexit handlers run as usual.
"""

import gc
import sys


def main() -> None:
    gc.disable()
    try:
        from rcauth.cli import main as run

        gc.freeze()
        gc.enable()
        run()
    except KeyboardInterrupt:  # before click took over (while importing it): no traceback either
        print("Error: interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
