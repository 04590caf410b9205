"""Run one command and report its own rusage; started as `python -I -S bench/spawn.py ...` so it stays small.

Why a separate small process: on Linux a child's peak RSS (`ru_maxrss`) starts from the RSS of the process
it was forked from (exec keeps the old image's high-water mark), so children forked straight from the bench
(35 MiB of Python and requests) would all report at least 35 MiB. Forked from this ~9 MiB process, a child
reports its own peak. Imports nothing but builtins, and reads the child's stdout in 1 MiB chunks.

    python -I -S bench/spawn.py TIMEOUT KEEP_BYTES STDERR_PATH -- ARGV...

Prints `wall cpu maxrss_kib exit_code stdout_lines` on one line, then the first KEEP_BYTES of the
child's stdout. The child gets this process's environment and /dev/null as stdin.
"""

import os
import signal
import sys
import time


def main() -> None:
    timeout, keep, err_path = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    argv = sys.argv[sys.argv.index("--") + 1 :]
    read_end, write_end = os.pipe()
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, write_end, 1),
        (os.POSIX_SPAWN_DUP2, err, 2),
    ]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    os.close(write_end)
    os.close(err)
    signal.signal(signal.SIGALRM, lambda signum, frame: os.kill(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    lines = 0
    head = bytearray()
    while chunk := os.read(read_end, 1 << 20):
        lines += chunk.count(b"\n")
        if len(head) < keep:
            head += chunk[: keep - len(head)]
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    signal.setitimer(signal.ITIMER_REAL, 0)
    code = os.waitstatus_to_exitcode(status)
    out = sys.stdout.buffer
    out.write(f"{wall!r} {usage.ru_utime + usage.ru_stime!r} {usage.ru_maxrss} {code} {lines}\n".encode())
    out.write(bytes(head))
    out.flush()


if __name__ == "__main__":
    main()
