"""One SQL table of partition metrics, on SQLite (embedded) or PostgreSQL (production).

Prometheus stamps a sample when it scrapes it, so a backfill or a late label would land at the
wrong time there. This table keys every value by its partition instead, and a rerun replaces
the row it wrote before.

The schema is versioned by hand rather than with Alembic: it is one table that the code
creates if missing and records in `monitoring_metrics_schema`. A store written by a newer
release is refused with its version named, and each future change is one function keyed by
the version it migrates from, run inside the same transaction as the version bump.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa

SCHEMA_VERSION = 1

_metadata = sa.MetaData()
metrics_table = sa.Table(
    "monitoring_metrics", _metadata,
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("partition_start", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(250), primary_key=True),
    sa.Column("partition_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("baseline", sa.Float, nullable=True),
    sa.Column("low", sa.Float, nullable=True),
    sa.Column("high", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("warn_threshold", sa.Float, nullable=True),
    sa.Column("level", sa.String(8), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_monitoring_metrics_model_kind", "model", "kind", "partition_start"),
)
schema_table = sa.Table(
    "monitoring_metrics_schema", _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
_KEY = ("model", "version", "partition_start", "kind", "name")
_VALUES = ("partition_end", "value", "baseline", "low", "high", "threshold", "warn_threshold", "level",
           "updated_at")


class MetricsStoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class MetricRow:
    model: str
    version: str
    partition_start: dt.datetime
    partition_end: dt.datetime
    kind: str
    name: str
    value: float | None = None
    baseline: float | None = None
    low: float | None = None
    high: float | None = None
    threshold: float | None = None
    warn_threshold: float | None = None
    level: str | None = None

    def key(self) -> tuple:
        return (self.model, self.version, _utc(self.partition_start), self.kind, self.name)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _record(row: MetricRow, now: dt.datetime) -> dict:
    record = asdict(row)
    for name in ("value", "baseline", "low", "high", "threshold", "warn_threshold"):
        record[name] = _finite(record[name])
    record["partition_start"] = _utc(row.partition_start)
    record["partition_end"] = _utc(row.partition_end)
    record["updated_at"] = now
    return record


METRICS_URL_ENV = "MONITORING_METRICS_URL"


def local_root(root: str) -> str:
    return root[len("file://"):] if root.startswith("file://") else root


def sqlite_url_under(root: str) -> str:
    """The embedded store: a SQLite file under a local storage root."""
    from pathlib import Path

    return f"sqlite:///{(Path(root).resolve() / 'metrics.db').as_posix()}"


def store_url(storage_root: str, metrics_url: str | None) -> str:
    """The store's URL as the code location resolves it (for the CLI and the exporter)."""
    import os

    return metrics_url or os.environ.get(METRICS_URL_ENV) or sqlite_url_under(local_root(storage_root))


class MetricsStore:
    def __init__(self, url: str):
        self.url = url
        self._engine: sa.Engine | None = None

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            url = sa.make_url(self.url)
            args = {}
            if url.get_backend_name() == "sqlite":
                if url.database:
                    from pathlib import Path

                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                # Two runs may write at once: wait for the other writer's lock, not 5 s only.
                args["connect_args"] = {"timeout": 60}
            self._engine = sa.create_engine(url, pool_pre_ping=True, **args)
            self._migrate(self._engine)
        return self._engine

    @classmethod
    def _migrate(cls, engine: sa.Engine) -> None:
        try:
            cls._migrate_once(engine)
        except (sa.exc.OperationalError, sa.exc.IntegrityError, sa.exc.ProgrammingError):
            # Two runs opened a new store at once, and the other one created the tables (or the
            # version row) between this one's check and its CREATE: they are there now.
            cls._migrate_once(engine)

    @staticmethod
    def _migrate_once(engine: sa.Engine) -> None:
        with engine.begin() as connection:
            _metadata.create_all(connection, checkfirst=True)
            stored = connection.execute(sa.select(schema_table.c.version).where(schema_table.c.id == 1)).scalar()
            if stored is None:
                connection.execute(sa.insert(schema_table).values(id=1, version=SCHEMA_VERSION))
            elif stored > SCHEMA_VERSION:
                raise MetricsStoreError(
                    f"the metrics store {engine.url.render_as_string(hide_password=True)} has schema version "
                    f"{stored}, newer than this release's {SCHEMA_VERSION}: upgrade monitoring_assets")

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def write_partition(self, rows: Sequence[MetricRow], replace: Iterable[tuple[str, dt.datetime, str]] = ()) -> int:
        """Upsert `rows`. For each (model, partition_start, kind) in `replace`, rows of that kind
        that this write does not carry are deleted: the partition's run is their only writer, so
        a feature or version that is gone from it is gone from the store."""
        now = dt.datetime.now(dt.timezone.utc)
        records = [_record(r, now) for r in rows]
        keys = {tuple(r[k] for k in _KEY) for r in records}
        table = metrics_table
        with self.engine.begin() as connection:
            for model, start, kind in set(replace):
                existing = connection.execute(
                    sa.select(*[table.c[k] for k in _KEY]).where(
                        table.c.model == model, table.c.partition_start == _utc(start), table.c.kind == kind)
                ).all()
                for stale in (tuple(e) for e in existing):
                    if (stale[0], stale[1], _utc(stale[2]), stale[3], stale[4]) not in keys:
                        connection.execute(sa.delete(table).where(
                            *[table.c[k] == v for k, v in zip(_KEY, stale)]))
            if records:
                connection.execute(self._upsert(connection), records)
        return len(records)

    def _upsert(self, connection: sa.Connection):
        dialect = connection.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            raise MetricsStoreError(f"the metrics store supports SQLite and PostgreSQL, not {dialect}")
        statement = insert(metrics_table)
        return statement.on_conflict_do_update(
            index_elements=list(_KEY), set_={k: statement.excluded[k] for k in _VALUES})

    def rows(self, model: str | None = None, kinds: Iterable[str] | None = None) -> list[dict]:
        table = metrics_table
        query = sa.select(table).order_by(table.c.model, table.c.partition_start, table.c.kind, table.c.name)
        if model is not None:
            query = query.where(table.c.model == model)
        if kinds is not None:
            query = query.where(table.c.kind.in_(list(kinds)))
        with self.engine.connect() as connection:
            result = [dict(r._mapping) for r in connection.execute(query)]
        for record in result:
            for name in ("partition_start", "partition_end", "updated_at"):
                record[name] = _utc(record[name])
        return result

    def models(self) -> list[str]:
        with self.engine.connect() as connection:
            return sorted(connection.execute(sa.select(metrics_table.c.model).distinct()).scalars())
