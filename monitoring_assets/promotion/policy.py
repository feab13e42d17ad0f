"""When the remediation policy acts: K consecutive failed labeled partitions, guard rails."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    action: str  # none | notify | rollback | retrain | rollback_then_retrain
    reason: str
    skipped: str | None = None  # why an action that was due is not taken

    @property
    def acts(self) -> bool:
        return self.action not in ("none",) and self.skipped is None


def consecutive_failures(judged: dict[str, bool], after: str | None) -> list[str]:
    """The most recent run of failed partitions (judged: partition -> passed), newest last,
    counting only partitions after `after` (the trigger of the last action)."""
    run: list[str] = []
    for partition in sorted(judged):
        if after is not None and partition <= after:
            continue
        run = run + [partition] if not judged[partition] else []
    return run


def decide(policy: str, judged: dict[str, bool], k: int, after: str | None, now: float,
           last_action_at: float | None, cooldown_s: float, in_flight: bool, dry_run: bool) -> Decision:
    failing = consecutive_failures(judged, after)
    if policy == "none" or len(failing) < k:
        return Decision("none", f"{len(failing)} consecutive failed partition(s), policy acts at {k}")
    reason = f"performance failed on {len(failing)} consecutive labeled partitions ({failing[0]} .. {failing[-1]})"
    if in_flight:
        return Decision(policy, reason, skipped="an action is already in flight for this model")
    if last_action_at is not None and now - last_action_at < cooldown_s:
        remaining = (cooldown_s - (now - last_action_at)) / 3600
        return Decision(policy, reason, skipped=f"cooldown: {remaining:.1f} h left")
    if dry_run:
        return Decision(policy, reason, skipped="dry run: the action is only recorded")
    return Decision(policy, reason)
