"""Peak memory of a process tree, as the benchmarks report it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path


SAMPLE_SECONDS = 0.1


def _proc_kib(pid: int | str, field: str, name: str) -> int:
    try:
        with open(f"/proc/{pid}/{name}") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass  # the process ended between the listing and the read
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
        except OSError:
            continue
    return found


def tree_pss_kib(root: int, exclude: int) -> int:
    total, queue = 0, [root]
    while queue:
        pid = queue.pop()
        if pid == exclude:
            continue
        total += _proc_kib(pid, "Pss", "smaps_rollup")
        queue += _children(pid)
    return total


class TreeMemory:
    """Samples the proportional set size (PSS) of this process and its descendants every 100 ms.
    PSS shares a page among the processes that map it, so the profiler's forked workers, which
    read the parent's frame, are not counted twice as RSS would count them. The sampler is a
    separate process: a thread here would stop the profiler from forking its workers."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._sampler: subprocess.Popen | None = None

    def __enter__(self) -> TreeMemory:
        self._sampler = subprocess.Popen([sys.executable, "-m", "benchmarks.memory", str(os.getpid())],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                         cwd=Path(__file__).resolve().parent.parent)
        # Started and sampling before the work starts: its start-up would look like a busy core.
        assert self._sampler.stdout is not None and self._sampler.stdout.readline().strip() == "sampling"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._sampler is not None
        output, _ = self._sampler.communicate("")
        self.peak_kib = int(output.strip() or 0)


def _sample_until_stdin_closes(root: int) -> None:
    peak = 0
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("sampling", flush=True)
    # Reading smaps_rollup walks the page tables of a process: at 20 ms on an 800 MiB run it took
    # a sixth of a core from the run it measured. Every 100 ms, at the lowest priority, it costs
    # a few percent, and a step's peak (a frame decoded, profiled, copied) lasts longer.
    os.nice(19)
    while not stop.is_set():
        peak = max(peak, tree_pss_kib(root, exclude=os.getpid()))
        stop.wait(SAMPLE_SECONDS)
    print(peak)


if __name__ == "__main__":
    _sample_until_stdin_closes(int(sys.argv[1]))
