"""Building the Pandera schema of a model's inference logs.

Sources, in order of precedence: the MLflow signature (columns, types, required), the
reference profile (nullability, numeric ranges widened by a margin, known categories), and
the overrides of the config file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandera.pandas as pa

# MLflow signature type names (mlflow.types.DataType) to the kinds validated here.
_SIGNATURE_KINDS = {
    "double": "float", "float": "float", "long": "int", "integer": "int",
    "string": "str", "boolean": "bool", "datetime": "datetime", "binary": "str",
}
_DTYPES = {"float": "float64", "int": "float64", "str": "str", "bool": "boolean", "datetime": "datetime64[ns, UTC]"}


@dataclass
class ColumnRule:
    name: str
    kind: str  # float | int | str | bool | datetime
    role: str  # feature | id | timestamp | prediction | score | latency | model_version | error
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: list[str] | None = None  # hard constraint (prediction classes)
    known_categories: list[str] | None = None  # soft constraint: unseen is a warning
    unique: bool = False

    def describe_checks(self) -> list[str]:
        checks = []
        if self.minimum is not None or self.maximum is not None:
            checks.append(f"in_range({_fmt(self.minimum, '-inf')}, {_fmt(self.maximum, 'inf')})")
        if self.kind in ("float", "int"):
            checks.append("finite")
        if self.allowed is not None:
            checks.append(f"isin({', '.join(self.allowed)})")
        if self.unique:
            checks.append("unique")
        if self.known_categories:
            checks.append(f"known categories: {len(self.known_categories)} (unseen = warning)")
        return checks


def _fmt(value: float | None, unbounded: str) -> str:
    return unbounded if value is None else f"{value:.6g}"


@dataclass
class InferenceSchema:
    """The rules of one model's inference logs, and the Pandera schema built from them."""

    rules: list[ColumnRule]
    strict: bool = False
    sources: dict[str, str] = field(default_factory=dict)

    def rule(self, name: str) -> ColumnRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    @property
    def columns(self) -> list[str]:
        return [r.name for r in self.rules]

    def to_pandera(self) -> pa.DataFrameSchema:
        columns = {rule.name: _pandera_column(rule) for rule in self.rules}
        return pa.DataFrameSchema(columns, strict=self.strict, name="inference_batch")

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "column": r.name, "role": r.role, "type": r.kind, "required": r.required,
                "nullable": r.nullable, "checks": r.describe_checks(),
                "source": self.sources.get(r.name, "config"),
            }
            for r in self.rules
        ]

    def render(self) -> str:
        header = f"{'column':<24} {'role':<14} {'type':<9} {'required':<9} {'nullable':<9} checks"
        lines = [header, "-" * len(header)]
        for row in self.describe():
            lines.append(
                f"{row['column']:<24} {row['role']:<14} {row['type']:<9} "
                f"{str(row['required']).lower():<9} {str(row['nullable']).lower():<9} "
                f"{'; '.join(row['checks'])}"
            )
        lines.append(f"strict columns: {str(self.strict).lower()}")
        return "\n".join(lines)


def _finite(series: Any) -> Any:
    return np.isfinite(series.astype(float))


def _first_of_each_value(series: Any) -> Any:
    """True where a value is its first occurrence. A batch of distinct ids (the usual one) passes
    on one hash of the column, without the row-by-row mask."""
    return True if series.is_unique else ~series.duplicated(keep="first")


def _pandera_column(rule: ColumnRule) -> pa.Column:
    checks: list[pa.Check] = []
    if rule.kind in ("float", "int"):
        checks.append(pa.Check(_finite, name="finite", error="value is not finite (inf)"))
        if rule.minimum is not None or rule.maximum is not None:
            low = -math.inf if rule.minimum is None else rule.minimum
            high = math.inf if rule.maximum is None else rule.maximum
            checks.append(pa.Check.in_range(low, high))
    if rule.allowed is not None:
        checks.append(pa.Check.isin(rule.allowed))
    if rule.unique:
        checks.append(
            pa.Check(_first_of_each_value, name="unique", error="duplicate id")
        )
    return pa.Column(
        _DTYPES[rule.kind], checks=checks, nullable=rule.nullable, required=rule.required,
        coerce=False,
    )


_ROLES = ("id", "timestamp", "prediction", "score", "latency", "model_version", "error")


def widened_range(low: float, high: float, margin: float) -> tuple[float, float]:
    """The reference range widened by `margin` times its span on each side. A column that never
    went negative in the reference keeps zero as its floor: counts, ages and amounts stay valid
    up to the margin, and a negative value is a bad row."""
    span = high - low
    pad = margin * (span if span > 0 else max(abs(high), 1.0))
    floor = low - pad
    if low >= 0:
        floor = max(floor, 0.0)
    return floor, high + pad


def _reference_column(reference: Any, name: str) -> Any:
    if reference is None:
        return None
    return reference.get_column(name)


def _reference_facts(column: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if column is None:
        return facts
    counts = column.get_metric("counts")
    if counts is not None:
        facts["nulls"] = int(counts.null.value)
        facts["n"] = int(counts.n.value)
    dist = column.get_metric("distribution")
    if dist is not None and not dist.kll.value.is_empty():
        facts["min"] = float(dist.kll.value.get_min_value())
        facts["max"] = float(dist.kll.value.get_max_value())
    types = column.get_metric("types")
    if types is not None:
        summary = types.to_summary_dict()
        facts["string"] = int(summary.get("string", 0))
    items = column.get_metric("frequent_items")
    if items is not None and facts.get("string"):
        facts["categories"] = sorted(item.value for item in items.strings)
    return facts


class FeatureNotInSignature(ValueError):
    """`columns.features` names a column the model's signature does not have."""


def check_features_in_signature(model: Any, baseline: Any) -> None:
    """Where the version's signature is known, every configured feature must be one of its
    inputs (a column with a role, such as the score, excepted): a misspelt feature would
    otherwise be validated and profiled as a column of its own, and never found."""
    inputs = [c.name for c in baseline.inputs]
    if not inputs or not model.columns.features:
        return
    roles = {getattr(model.columns, role, None) for role in _ROLES}
    missing = [f for f in model.columns.features if f not in inputs and f not in roles]
    if missing:
        raise FeatureNotInSignature(
            f"columns.features of model {model.name!r} lists {missing}, which the signature of "
            f"{baseline.model_name} version {baseline.version} does not have (its inputs: {', '.join(inputs)})")


def schema_for(model: Any, baseline: Any) -> InferenceSchema:
    """The schema of a configured model (`ModelConfig`) against a version's baseline."""
    check_features_in_signature(model, baseline)
    return build_inference_schema(
        signature_inputs=baseline.inputs,
        reference=baseline.reference,
        roles=model.columns,
        task=model.task,
        range_margin=model.schema_policy.range_margin,
        strict=model.schema_policy.strict_columns,
        feature_overrides=model.columns.features,
        column_overrides=model.schema_policy.columns,
    )


def build_inference_schema(
    *,
    signature_inputs: Iterable[Any],
    reference: Any,
    roles: Any,
    task: str,
    range_margin: float = 1.0,
    strict: bool = False,
    feature_overrides: Iterable[str] | None = None,
    column_overrides: Mapping[str, Any] | None = None,
) -> InferenceSchema:
    """Derive the schema. `signature_inputs` are objects with name, type and required."""
    rules: list[ColumnRule] = []
    sources: dict[str, str] = {}
    inputs = list(signature_inputs)
    features = list(feature_overrides) if feature_overrides else [i.name for i in inputs]
    by_name = {i.name: i for i in inputs}
    # A column with a role (the score, say) that is also listed as a feature gets one rule: its
    # role's. It is still scored for drift as a feature.
    role_columns = {getattr(roles, role) for role in _ROLES if getattr(roles, role, None)}
    for name in features:
        if name in role_columns:
            continue
        spec = by_name.get(name)
        facts = _reference_facts(_reference_column(reference, name))
        if spec is not None:
            kind = _SIGNATURE_KINDS.get(spec.type.lower(), "str")
            required = bool(spec.required)
            sources[name] = "signature + reference profile"
        else:
            kind = "str" if facts.get("string") else "float"
            required = True
            sources[name] = "config + reference profile"
        rule = ColumnRule(name=name, kind=kind, role="feature", required=required)
        rule.nullable = bool(facts.get("nulls", 0)) or not required
        if kind in ("float", "int") and "min" in facts:
            rule.minimum, rule.maximum = widened_range(facts["min"], facts["max"], range_margin)
        if kind == "str" and facts.get("categories"):
            rule.known_categories = facts["categories"]
        rules.append(rule)

    rules.append(ColumnRule(roles.id, "str", "id", unique=True))
    rules.append(ColumnRule(roles.timestamp, "datetime", "timestamp"))
    if task == "binary":
        rules.append(ColumnRule(roles.prediction, "int", "prediction", allowed=None, minimum=0, maximum=1))
    elif task == "multiclass":
        rules.append(ColumnRule(roles.prediction, "str", "prediction"))
    else:
        rules.append(ColumnRule(roles.prediction, "float", "prediction"))
    if roles.score:
        score = ColumnRule(roles.score, "float", "score", nullable=True, required=False)
        if task == "binary":
            score.minimum, score.maximum = 0.0, 1.0
        rules.append(score)
    if roles.latency:
        rules.append(ColumnRule(roles.latency, "float", "latency", minimum=0.0, required=False, nullable=True))
    if roles.model_version:
        rules.append(ColumnRule(roles.model_version, "str", "model_version", required=False, nullable=True))
    if roles.error:
        rules.append(ColumnRule(roles.error, "bool", "error", required=False, nullable=True))
    for rule in rules:
        sources.setdefault(rule.name, "column roles (config)")
    by_rule = {rule.name: rule for rule in rules}
    for name, override in (column_overrides or {}).items():
        rule = by_rule.get(name)
        if rule is None:
            raise ValueError(f"schema override for column {name!r}, which is not in the schema")
        for field_name in ("required", "nullable", "minimum", "maximum", "allowed"):
            value = getattr(override, field_name)
            if value is not None:
                setattr(rule, field_name, value)
        if override.check_categories is False:
            rule.known_categories = None
        sources[name] = sources[name] + " + config override"
    return InferenceSchema(rules=rules, strict=strict, sources=sources)
