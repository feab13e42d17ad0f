"""Delivering one tick's messages within a budget.

Each channel gets its own worker thread and sends its messages in order; every send is bounded
by the channel's own deadline and by what is left of the tick's budget. A slow or broken
channel therefore costs only its own messages: the others are delivered in the same tick, the
tick ends within its budget, and what did not fit stays pending for the next tick.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitoring_assets.alerts.book import Outbox

NOT_ATTEMPTED = "not attempted: the tick's delivery budget was spent"


@dataclass
class Outcome:
    outbox: Outbox
    error: str | None = None  # None: delivered
    attempted: bool = True


def deliver(outboxes: list[Outbox], send: Callable[[Outbox, float], None], budget_s: float,
            clock: Callable[[], float] = time.monotonic) -> list[Outcome]:
    """`send(outbox, seconds_left)` returns when delivered and raises when not; its exception
    text is kept (it must not carry secrets). Never raises and never runs past the budget by
    more than a second."""
    started = clock()
    deadline = started + budget_s
    by_channel: dict[str, list[Outbox]] = {}
    for outbox in outboxes:
        by_channel.setdefault(outbox.channel, []).append(outbox)
    outcomes: dict[int, Outcome] = {id(o): Outcome(o, NOT_ATTEMPTED, attempted=False) for o in outboxes}

    def run_channel(boxes: list[Outbox]) -> None:
        for outbox in boxes:
            left = deadline - clock()
            if left <= 0.05:
                return
            outcome = outcomes[id(outbox)]
            outcome.attempted = True
            outcome.error = "deadline: no answer before the tick's budget ran out"
            try:
                send(outbox, left)
            except BaseException as exc:  # noqa: BLE001 - a channel's error of any kind stays there
                outcome.error = str(exc) or type(exc).__name__
                continue
            outcome.error = None

    if not by_channel:
        return []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(by_channel), thread_name_prefix="alert-channel")
    try:
        futures = [pool.submit(run_channel, boxes) for boxes in by_channel.values()]
        concurrent.futures.wait(futures, timeout=max(0.0, deadline - clock()) + 1.0)
    finally:
        # A send that outlives the budget (an SMTP server that never answers) is abandoned, not
        # waited for: its outbox is reported failed and retried on a later tick.
        pool.shutdown(wait=False, cancel_futures=True)
    return [Outcome(o, outcomes[id(o)].error, outcomes[id(o)].attempted) for o in outboxes]


def timed(fn: Callable[[], Any], seconds: float, default: Any = None) -> Any:
    """`fn()` when it returns within `seconds`, else `default`; a slow lookup (an MLflow server
    that does not answer) costs a link, not the tick."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-lookup")
    try:
        return pool.submit(fn).result(timeout=seconds)
    except Exception:  # noqa: BLE001
        return default
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
