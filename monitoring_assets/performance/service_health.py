"""Latency percentiles, error rate and throughput of a batch, judged against an SLO."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
import pandas as pd


class ServiceLevelLike(Protocol):
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_error_rate: float | None
    min_rows: int | None


@dataclass(frozen=True)
class ServiceHealth:
    rows: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    error_rate: float
    throughput_per_min: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def measure_service_health(
    frame: pd.DataFrame, latency: str | None, error: str | None, window_seconds: float,
) -> ServiceHealth:
    rows = len(frame)
    if latency and latency in frame and rows:
        values = pd.to_numeric(frame[latency], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        p50, p95, p99 = (np.percentile(values, [50, 95, 99]) if len(values) else [np.nan] * 3)
    else:
        p50 = p95 = p99 = np.nan
    error_rate = float(frame[error].fillna(False).astype(bool).mean()) if error and error in frame and rows else 0.0
    throughput = rows / (window_seconds / 60.0) if window_seconds > 0 else float("nan")
    return ServiceHealth(rows, float(p50), float(p95), float(p99), error_rate, float(throughput))


def missing_role_columns(frame: pd.DataFrame, columns: dict[str, str | None]) -> list[str]:
    """Configured role columns (role -> column) that the batch lacks or holds only nulls in."""
    if not len(frame):
        return []
    missing = []
    for role, column in columns.items():
        if not column:
            continue
        if column not in frame:
            missing.append(f"{role} column {column!r} is missing")
        elif frame[column].isna().all():
            missing.append(f"{role} column {column!r} is all null")
    return missing


def judge_service_health(health: ServiceHealth, slo: ServiceLevelLike) -> list[str]:
    """Return the SLO breaches, empty when the batch meets every objective."""
    breaches = []
    for name, limit in (("p50", slo.p50_ms), ("p95", slo.p95_ms), ("p99", slo.p99_ms)):
        observed = getattr(health, f"latency_{name}_ms")
        if limit is not None and not np.isnan(observed) and observed > limit:
            breaches.append(f"latency {name} {observed:.1f} ms > {limit:g} ms")
    if slo.max_error_rate is not None and health.error_rate > slo.max_error_rate:
        breaches.append(f"error rate {health.error_rate:.2%} > {slo.max_error_rate:.2%}")
    if slo.min_rows is not None and health.rows < slo.min_rows:
        breaches.append(f"{health.rows} rows < minimum {slo.min_rows}")
    return breaches
