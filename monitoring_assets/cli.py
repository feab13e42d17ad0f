"""The `monitoring-assets` command."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _cmd_demo(args: argparse.Namespace) -> int:
    import warnings

    from monitoring_assets.demo.run import run_demo

    # Dagster flags its own beta parameters; the demo's reader cannot act on them.
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    start = dt.date.fromisoformat(args.start) if args.start else None
    run_demo(home=args.home, days=args.days, seed=args.seed, start=start, rows_per_day=args.rows_per_day)
    return 0


def _cmd_baseline(args: argparse.Namespace) -> int:
    import pandas as pd

    from monitoring_assets.registry import register_baseline
    from monitoring_assets.validation.readers import read_file

    metrics = json.loads(Path(args.metrics).read_text(encoding="utf-8")) if args.metrics else {}
    for item in args.metric or []:
        name, _, value = item.partition("=")
        metrics[name] = float(value)
    reference: pd.DataFrame = read_file(args.reference)
    labels = None
    if args.label_column:
        if args.label_column not in reference:
            raise SystemExit(f"{args.reference}: no column {args.label_column!r} (--label-column)")
        # The label is not an input of the model: it calibrates the scores, it is not profiled.
        labels, reference = reference[args.label_column], reference.drop(columns=[args.label_column])
    baseline = register_baseline(
        args.tracking_uri, args.model_name, args.version, metrics, reference, alias=args.alias,
        labels=labels, score_column=args.score_column,
    )
    print(
        f"registered baseline for {baseline.model_name} version {baseline.version} "
        f"(run {baseline.run_id}): {len(baseline.metrics)} metrics, reference profile of "
        f"{len(reference)} rows" + (f"; alias {args.alias!r} set" if args.alias else "")
        + ("; scores calibrated for estimated performance" if baseline.calibration else "")
    )
    return 0


def _model_schema(config_path: str | None, model_name: str):
    from monitoring_assets.config import load_config
    from monitoring_assets.registry.registry import registry_for
    from monitoring_assets.validation.schema import schema_for

    config = load_config(config_path)
    model = config.model(model_name)
    registry = registry_for(config)
    version = registry.version_for_alias(model.registered_model, model.champion_alias)
    return model, version, schema_for(model, registry.baseline(model.registered_model, version))


def _cmd_schema(args: argparse.Namespace) -> int:
    model, version, schema = _model_schema(args.config, args.model)
    print(f"schema of {model.name} ({model.registered_model} version {version}, alias {model.champion_alias})")
    print(schema.render())
    return 0


def _cmd_check_file(args: argparse.Namespace) -> int:
    from monitoring_assets.validation.verdict import check_files

    model, version, schema = _model_schema(args.config, args.model)
    verdict = check_files(
        list(args.paths), schema, model.schema_policy.max_quarantine_share, model.inference.csv_delimiter
    )
    print(f"check-file against {model.name} ({model.registered_model} version {version})")
    print(verdict.render())
    return verdict.exit_code


def _cmd_run(args: argparse.Namespace) -> int:
    import os

    import dagster as dg

    from monitoring_assets.assets.factory import monitoring_job_name, partitions_for
    from monitoring_assets.config import ConfigError, load_config
    from monitoring_assets.wiring import build_definitions, code_location_tags

    config = load_config(args.config)
    try:
        model = config.model(args.model)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    keys = partitions_for(model).get_partition_keys()
    last = args.to or args.partition
    for key in (args.partition, last):
        if key not in keys:
            raise ConfigError(f"{key!r} is not a partition of {model.name} ({keys[0]} ... {keys[-1]})"
                              if keys else f"{model.name} has no partitions yet")
    selected = keys[keys.index(args.partition):keys.index(last) + 1]
    if not os.environ.get("DAGSTER_HOME"):
        raise ConfigError("DAGSTER_HOME is not set: it names the Dagster instance the runs are stored in")
    instance = dg.DagsterInstance.get()
    job = build_definitions(config).resolve_job_def(monitoring_job_name(model))
    failed = 0
    for key in selected:
        result = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False,
                                        tags=code_location_tags(),
                                        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        outcomes = []
        for evaluation in result.get_asset_check_evaluations():
            verdict = "ok" if evaluation.passed else evaluation.severity.value
            outcomes.append(f"{evaluation.check_name}={verdict}")
        failed += not result.success
        print(f"{key} run {result.run_id} {'succeeded' if result.success else 'FAILED'}: {' '.join(outcomes)}",
              flush=True)
    return 1 if failed else 0


def _cmd_status(args: argparse.Namespace) -> int:
    import os
    from dataclasses import asdict

    import dagster as dg

    from monitoring_assets.assets.health import model_health
    from monitoring_assets.assets.names import TABLE_CHECKS
    from monitoring_assets.assets.report import grafana_link, report_path
    from monitoring_assets.config import ConfigError, load_config
    from monitoring_assets.health.status import DEGRADED, render_table, unescape_markdown
    from monitoring_assets.sensors.alert_sensor import unset_secrets

    config = load_config(args.config)
    models = _selected_models(config, args.model)
    if not os.environ.get("DAGSTER_HOME"):
        raise ConfigError("DAGSTER_HOME is not set: it names the Dagster instance to read")
    instance = dg.DagsterInstance.get()
    result, degraded = {}, False
    for model in models:
        report, outcomes = model_health(instance, model)
        degraded |= report.status == DEGRADED
        links = {"report": report_path(config.storage.root, model.name)}
        if config.links.grafana_url:
            links["dashboard"] = grafana_link(config.links.grafana_url, model.name)
        result[model.name] = {
            "health": report.to_dict(),
            "links": links,
            "partitions": {p: {c: asdict(o) for c, o in checks.items()} for p, checks in sorted(outcomes.items())},
        }
        if not args.json:
            print(report.headline())
            for failing in report.failing:
                print(f"  {failing['check']} ({failing['severity']}) since {failing['since']}: "
                      f"{unescape_markdown(failing['description'])}")
            if report.drifted_features:
                print(f"  top drifted features: {', '.join(report.drifted_features)}")
            for name, target in links.items():
                print(f"  {name}: {target}")
            print(render_table(outcomes, TABLE_CHECKS))
            print()
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    for line in unset_secrets(config):  # on stderr, so the JSON on stdout stays the models'
        print(f"WARNING: alerts cannot be delivered: {line}", file=sys.stderr)
    return 1 if degraded else 0


def _selected_models(config, name: str | None) -> list:
    """`--model NAME`'s model, or every model of the config; an unknown name is a ConfigError."""
    from monitoring_assets.config import ConfigError

    try:
        return [config.model(name)] if name else config.models
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None


def _store_and_models(args: argparse.Namespace):
    from monitoring_assets.config import load_config
    from monitoring_assets.metrics_store.store import MetricsStore, store_url

    config = load_config(args.config)
    models = _selected_models(config, getattr(args, "model", None))
    return config, models, MetricsStore(store_url(config.storage.root, config.storage.metrics_url))


def _cmd_report(args: argparse.Namespace) -> int:
    """Print each model's report path; with DAGSTER_HOME set, regenerate it first from the
    store and the instance's latest verdicts."""
    import os

    import fsspec

    from monitoring_assets.assets.report import refresh_report, report_links, report_path

    config, models, store = _store_and_models(args)
    missing = 0
    for model in models:
        path = report_path(config.storage.root, model.name)
        if os.environ.get("DAGSTER_HOME") and store.rows(model.name):
            import dagster as dg

            with dg.DagsterInstance.get() as instance:
                refresh_report(instance, model, store, config.storage.root, report_links(model, config.links))
        fs, fs_path = fsspec.core.url_to_fs(path)
        if fs.exists(fs_path):
            print(path)
        else:
            missing += 1
            print(f"{model.name}: no report yet at {path} (it is written by each monitoring run)", file=sys.stderr)
    return 1 if missing else 0


def _cmd_exporter(args: argparse.Namespace) -> int:
    import signal
    import threading

    from monitoring_assets.metrics_store.exporter import freshness_limit_seconds, serve

    config, models, store = _store_and_models(args)
    limits = {m.name: freshness_limit_seconds(m.partitions.grain, m.freshness.max_delay_hours)
              for m in models if m.freshness.enabled}
    server, _thread = serve(store, limits, args.host, args.port)
    print(f"serving Prometheus metrics of {len(models)} model(s) on http://{args.host}:{args.port}/metrics "
          f"from the metrics store", flush=True)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitoring-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the end-to-end demo on embedded defaults")
    demo.add_argument("--home", default=".demo")
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--start", help="first day (YYYY-MM-DD); default: DAYS days before today")
    demo.add_argument("--rows-per-day", type=int, default=1500)
    demo.set_defaults(func=_cmd_demo)

    baseline = sub.add_parser("baseline", help="register a model version's baseline in MLflow")
    baseline.add_argument("--tracking-uri", required=True)
    baseline.add_argument("--model-name", required=True)
    baseline.add_argument("--version", required=True)
    baseline.add_argument("--reference", required=True, help="validation data (Parquet, CSV or JSONL)")
    baseline.add_argument("--metrics", help="JSON file of metric name to value")
    baseline.add_argument("--metric", action="append", help="NAME=VALUE, repeatable")
    baseline.add_argument("--alias", help="also point this alias at the version")
    baseline.add_argument("--label-column", help="binary classifiers: the reference's 0/1 label column; the "
                          "scores are calibrated on it so that performance is estimated before labels arrive")
    baseline.add_argument("--score-column", default="score", help="the score column (default: score)")
    baseline.set_defaults(func=_cmd_baseline)

    schema = sub.add_parser("schema", help="print a model's inference schema")
    schema.add_argument("--model", required=True)
    schema.add_argument("--config")
    schema.set_defaults(func=_cmd_schema)

    run = sub.add_parser("run", help="materialize a model's partition (or a range: a backfill) into $DAGSTER_HOME")
    run.add_argument("--model", required=True)
    run.add_argument("--partition", required=True, help="partition key, e.g. 2026-11-01 (daily) or 2026-11-01-13:00 (hourly)")
    run.add_argument("--to", help="last partition key of a backfill range (inclusive)")
    run.add_argument("--config")
    run.set_defaults(func=_cmd_run)

    status = sub.add_parser("status", help="each model's health and per-partition check table, from $DAGSTER_HOME "
                            "(exit 1 when a model is DEGRADED)")
    status.add_argument("--model")
    status.add_argument("--config")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_cmd_status)

    report = sub.add_parser("report", help="print the path of each model's HTML report (regenerated first when "
                            "$DAGSTER_HOME is set)")
    report.add_argument("--model")
    report.add_argument("--config")
    report.set_defaults(func=_cmd_report)

    exporter = sub.add_parser("exporter", help="serve the models' current state to Prometheus, from the metrics store")
    exporter.add_argument("--port", type=int, default=9464)
    exporter.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    exporter.add_argument("--config")
    exporter.set_defaults(func=_cmd_exporter)

    check = sub.add_parser("check-file", help="validate files before they land (exit 0 clean, 1 bad rows, 2 unusable)")
    check.add_argument("--model", required=True)
    check.add_argument("--config")
    check.add_argument("paths", nargs="+")
    check.set_defaults(func=_cmd_check_file)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import os

    from monitoring_assets.config import ConfigError

    args = build_parser().parse_args(argv)
    # A command's output is its verdict; MLflow's download progress bars would bury it.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow 3's usage telemetry writes ~/.config/mlflow and calls out: nothing leaves the
    # places the user configured unless the user opts in.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from monitoring_assets.registry import MlflowUnavailable
    from monitoring_assets.validation.schema import FeatureNotInSignature

    try:
        return int(args.func(args))
    except (ConfigError, FeatureNotInSignature, MlflowUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
