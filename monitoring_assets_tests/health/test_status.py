"""Health rules on plain verdicts: HEALTHY, WARNING, DEGRADED, since, why, freshness."""

from monitoring_assets.health.status import (
    DEGRADED,
    HEALTHY,
    WARNING,
    CheckOutcome,
    escape_markdown,
    freshness_of,
    judge_health,
    render_markdown,
    render_table,
)

CHECKS = ("schema_valid", "drift_within_limits", "performance_vs_baseline", "label_coverage", "latency_slo")
OK = CheckOutcome(True, "WARN")
PENDING = CheckOutcome(True, "ERROR", "pending", {"status": "pending"})


def perf_failed(value: float) -> CheckOutcome:
    return CheckOutcome(False, "ERROR", f"accuracy={value} is below 0.68", {
        "status": "judged", "metric": "accuracy", "observed": value, "baseline": 0.715, "threshold": 0.68,
        "metric_outcomes": [{"metric": "accuracy", "value": value, "baseline": 0.715, "limit": 0.68, "passed": False,
                             "version": "1"}]})


def day(n: int) -> str:
    return f"2026-11-{n:02d}"


def test_all_passing_is_healthy():
    outcomes = {day(n): {c: OK for c in CHECKS} for n in range(1, 4)}
    report = judge_health("churn", outcomes, CHECKS)
    assert report.status == HEALTHY and report.since is None and report.failing == []
    assert report.headline() == "churn: HEALTHY (latest partition 2026-11-03)"


def test_a_warn_on_the_latest_judged_partition_is_a_warning():
    drift = CheckOutcome(False, "WARN", "1 feature(s) drifted: age", {"drifted_features": ["age"], "observed": 0.13})
    outcomes = {day(1): {"drift_within_limits": OK}, day(2): {"drift_within_limits": drift}}
    report = judge_health("churn", outcomes, CHECKS)
    assert report.status == WARNING and report.since == day(2) and report.drifted_features == ["age"]


def test_pending_labels_do_not_hide_a_degradation_and_since_is_the_start_of_the_run():
    outcomes = {
        day(16): {"performance_vs_baseline": CheckOutcome(True, "ERROR", "ok", {"status": "judged"})},
        day(17): {"performance_vs_baseline": perf_failed(0.32)},
        day(18): {"performance_vs_baseline": perf_failed(0.30)},
        day(19): {"performance_vs_baseline": PENDING},  # the newest partition, labels not in yet
    }
    report = judge_health("churn", outcomes, CHECKS)
    assert report.status == DEGRADED and report.since == day(17)
    (failing,) = report.failing
    assert failing["check"] == "performance_vs_baseline" and failing["partition"] == day(18)
    assert report.metrics[0]["metric"] == "accuracy" and report.metrics[0]["value"] == 0.30
    assert report.headline() == "churn: DEGRADED since 2026-11-17 (performance_vs_baseline)"
    summary = render_markdown(report)
    assert "**DEGRADED**" in summary and "2026-11-17" in summary and "| accuracy | 0.3 | 0.715 | 0.68 |" in summary


def test_an_error_outranks_a_warning_and_recovery_clears_it():
    coverage = CheckOutcome(False, "WARN", "labels overdue", {"status": "overdue"})
    outcomes = {day(1): {"latency_slo": CheckOutcome(False, "ERROR", "p95 300 ms > 250 ms"), "label_coverage": coverage}}
    assert judge_health("m", outcomes, CHECKS).status == DEGRADED
    outcomes[day(2)] = {"latency_slo": OK}
    report = judge_health("m", outcomes, CHECKS)
    assert report.status == WARNING and [f["check"] for f in report.failing] == ["label_coverage"]


def test_stale_data_degrades_a_model_whose_checks_all_pass():
    outcomes = {day(n): {c: OK for c in CHECKS} for n in range(1, 4)}
    stale = freshness_of(day(3), day(6), "churn")
    assert not stale.fresh and stale.description == "no inference data for churn since 2026-11-03 (expected up to 2026-11-06)"
    report = judge_health("churn", outcomes, CHECKS, stale)
    assert report.status == DEGRADED and report.failing[-1]["check"] == "data_freshness"
    assert freshness_of(day(6), day(6), "churn").fresh and freshness_of(None, None, "churn").fresh
    assert not freshness_of(None, day(1), "churn").fresh


def test_the_table_shows_each_partition_and_data_cannot_inject_markdown():
    outcomes = {day(17): {"performance_vs_baseline": perf_failed(0.32), "schema_valid": OK},
                day(19): {"performance_vs_baseline": PENDING}}
    lines = render_table(outcomes, CHECKS).splitlines()
    assert lines[2].startswith("2026-11-17") and "ERROR" in lines[2] and "accuracy 0.320 vs 0.715" in lines[2]
    assert lines[3].startswith("2026-11-19") and "pending" in lines[3]
    assert escape_markdown("![x](http://evil/i.png) | <b>") == "\\!\\[x\\]\\(http://evil/i.png\\) \\| \\<b\\>"
