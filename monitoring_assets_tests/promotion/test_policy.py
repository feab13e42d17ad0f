"""The remediation decision on plain values: consecutive failures and guard rails."""

from monitoring_assets.promotion.policy import consecutive_failures, decide

JUDGED = {"2026-11-10": True, "2026-11-11": False, "2026-11-12": False, "2026-11-13": False}
HOUR = 3600.0


def test_only_the_latest_unbroken_run_of_failures_counts():
    assert consecutive_failures(JUDGED, None) == ["2026-11-11", "2026-11-12", "2026-11-13"]
    assert consecutive_failures(JUDGED | {"2026-11-14": True}, None) == []
    assert consecutive_failures(JUDGED, after="2026-11-12") == ["2026-11-13"]


def test_the_policy_acts_at_k_failures_and_not_before():
    assert decide("retrain", JUDGED, 4, None, 0.0, None, 0.0, False, False).action == "none"
    decision = decide("retrain", JUDGED, 3, None, 0.0, None, 0.0, False, False)
    assert decision.action == "retrain" and decision.acts and "2026-11-11 .. 2026-11-13" in decision.reason


def test_guard_rails_skip_with_their_reason():
    in_flight = decide("rollback", JUDGED, 3, None, 0.0, None, 0.0, True, False)
    assert not in_flight.acts and "in flight" in in_flight.skipped
    cooling = decide("rollback", JUDGED, 3, None, 10 * HOUR, 5 * HOUR, 24 * HOUR, False, False)
    assert not cooling.acts and "19.0 h left" in cooling.skipped
    dry = decide("rollback", JUDGED, 3, None, 0.0, None, 0.0, False, True)
    assert not dry.acts and "dry run" in dry.skipped
    assert decide("none", JUDGED, 1, None, 0.0, None, 0.0, False, False).action == "none"
