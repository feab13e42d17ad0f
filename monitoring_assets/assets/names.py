"""Asset and check names, shared by the assets, the sensors, the demo and the tests."""

INFERENCE_BATCH = "inference_batch"
VALIDATED_BATCH = "validated_batch"
INFERENCE_PROFILE = "inference_profile"
FEATURE_DRIFT = "feature_drift"
LABELS = "labels"
MODEL_PERFORMANCE = "model_performance"
SERVICE_HEALTH = "service_health"
MONITORING_RUN = "monitoring_run"
VERSION_COMPARISON = "version_comparison"
RETRAINED_CANDIDATE = "retrained_candidate"
CANDIDATE_EVALUATION = "candidate_evaluation"
CHAMPION_PROMOTION = "champion_promotion"

GATE_CHECKS = (
    "candidate_meets_thresholds",
    "candidate_signature_compatible",
    "candidate_prediction_drift",
    "evaluation_window_labeled",
)

SCHEMA_CHECK = "schema_valid"
DRIFT_CHECK = "drift_within_limits"
PERFORMANCE_CHECK = "performance_vs_baseline"
LABEL_COVERAGE_CHECK = "label_coverage"
LATENCY_SLO_CHECK = "latency_slo"
LABELS_CONSISTENT_CHECK = "labels_consistent"

MONITORING_CHECKS = (
    SCHEMA_CHECK,
    DRIFT_CHECK,
    PERFORMANCE_CHECK,
    LABEL_COVERAGE_CHECK,
    LATENCY_SLO_CHECK,
)

HEALTH = "health"
HEALTH_GROUP = "model_health"
HEALTH_CHECK = "model_healthy"
FRESHNESS_CHECK = "data_freshness"

LIFECYCLE = "lifecycle"

ESTIMATED_PERFORMANCE = "estimated_performance"
ESTIMATED_CHECK = "estimated_performance_vs_baseline"
RECONCILED_CHECK = "estimate_reconciled"
# The table of verdicts per partition (the demo, `monitoring-assets status`): the monitoring
# checks, then the estimate and its reconciliation with the labels.
TABLE_CHECKS = MONITORING_CHECKS + (ESTIMATED_CHECK, RECONCILED_CHECK)
REPORT = "report"
