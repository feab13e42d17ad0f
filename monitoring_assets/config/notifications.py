"""The `notifications` section: where alerts go (channels) and which alerts go where (routes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from monitoring_assets.config.strict import Strict as _Strict

__all__ = ["ChannelConfig", "NotificationsConfig", "RouteConfig"]


class ChannelConfig(_Strict):
    """A place alerts go. Secrets are never written here: `*_env` names an environment variable."""

    type: Literal["slack", "webhook", "email", "console", "file", "alertmanager"]
    url_env: str | None = Field(
        default=None, description="slack/webhook/alertmanager: env var holding the URL (Alertmanager: its base URL)")
    path: str | None = Field(default=None, description="file: where JSON lines are appended")
    smtp_host: str | None = None
    smtp_port: int = 587
    starttls: bool = True
    verify_tls: bool = True
    username: str | None = None
    password_env: str | None = None
    sender: str | None = None
    recipients: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(
        default=10.0, gt=0, description="Total deadline of one delivery: connect, send and answer together.")

    @model_validator(mode="after")
    def _complete(self) -> ChannelConfig:
        if self.type in ("slack", "webhook", "alertmanager") and not self.url_env:
            raise ValueError(f"a {self.type} channel needs url_env (the env var holding its URL)")
        if self.type == "file" and not self.path:
            raise ValueError("a file channel needs path")
        if self.type == "email" and not (self.smtp_host and self.sender and self.recipients):
            raise ValueError("an email channel needs smtp_host, sender and recipients")
        return self


class RouteConfig(_Strict):
    models: list[str] = Field(default_factory=lambda: ["*"])
    min_severity: Literal["WARN", "ERROR"] = "WARN"
    channels: list[str]


class NotificationsConfig(_Strict):
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    repeat_interval_minutes: float = Field(default=240, gt=0)
    retry_initial_seconds: float = Field(default=30, ge=0)
    retry_max_seconds: float = Field(default=1800, ge=0)
    alert_on_warn: bool = True
    delivery_budget_seconds: float = Field(
        default=25, gt=0, le=50,
        description="Time one alert-sensor tick may spend delivering, well under Dagster's 60 s sensor "
        "timeout; channels deliver in parallel and what does not fit is retried on the next tick.")

    @model_validator(mode="after")
    def _routes_name_channels(self) -> NotificationsConfig:
        for index, route in enumerate(self.routes):
            unknown = [c for c in route.channels if c not in self.channels]
            if unknown:
                raise ValueError(f"routes[{index}] names unknown channel(s) {unknown}")
        return self
