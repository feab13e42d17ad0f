"""Delivery channels. Each `send` either returns (delivered) or raises DeliveryError with a
message that never contains a secret.

Email goes through Apprise, which handles SMTP, STARTTLS and authentication. Slack, the
generic webhook and Alertmanager are single JSON POSTs through httpx, each bounded by a total
deadline: Apprise's Slack plugin always posts to hooks.slack.com, so it cannot reach
Slack-compatible endpoints (Mattermost, Rocket.Chat, a proxy) or a local stand-in, and its
JSON plugin has a fixed payload shape that cannot carry the documented alert fields.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from monitoring_assets.alerts.messages import alertmanager_alerts, slack_payload


class DeliveryError(RuntimeError):
    pass


_SECRETS: set[str] = set()


class _RedactSecrets(logging.Filter):
    """urllib3 logs each request line ("POST /hooks/T0KEN HTTP/1.1") at DEBUG; webhook URLs
    carry their token in the path, so every record that names a secret is rewritten."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            cleaned = redact(message, _SECRETS)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = _RedactSecrets()
_REDACTED_LOGGERS = ("urllib3.connectionpool", "requests", "apprise", "httpx", "httpcore")


def install_redaction() -> None:
    """Attach the filter to the HTTP and email loggers; called when a secret is first used, so
    importing this module leaves the process's logging alone. Attaching twice is a no-op."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def register_secret(url_or_value: str | None) -> None:
    if not url_or_value:
        return
    install_redaction()
    _SECRETS.add(url_or_value)
    try:
        parts = urlsplit(url_or_value)
    except ValueError:
        return  # not a URL (or a malformed one): the whole value is the secret
    if parts.scheme and len(parts.path) > 1:
        _SECRETS.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        _SECRETS.add(parts.path)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            text = text.replace(quote(secret, safe=""), "***")
            text = text.replace(quote(secret, safe="/"), "***")
    return text


class Channel(Protocol):
    name: str

    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None: ...


class ConsoleChannel:
    def __init__(self, name: str, stream: Any = None) -> None:
        self.name = name
        self.stream = stream

    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None:
        print(message["text"], file=self.stream or sys.stdout, flush=True)


class FileChannel:
    """Appends one JSON document per message (the webhook payload) to a file."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = Path(path)

    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(message, default=str) + "\n")
        except OSError as exc:
            raise DeliveryError(f"{self.name}: cannot write {self.path}: {exc.strerror}") from None


def _post_within(url: str, body: Any, deadline_s: float) -> int:
    """POST JSON and return the status code, all within `deadline_s`: connect, send, headers and
    body together. A read timeout alone lets a server that drips one byte at a time hold the
    call forever; cancelling the request at the deadline closes its connection instead."""
    import asyncio

    import httpx

    async def post() -> int:
        async with httpx.AsyncClient(timeout=deadline_s, follow_redirects=False) as client:
            response = await client.post(url, json=body)
            return response.status_code

    async def bounded() -> int:
        return await asyncio.wait_for(post(), timeout=deadline_s)

    return asyncio.run(bounded())


class _HttpChannel:
    def __init__(self, name: str, url: str | None, timeout: float, url_env: str | None = None) -> None:
        self.name = name
        self._url = url
        self.timeout = timeout
        self._source = f"${url_env}" if url_env else "its URL environment variable"
        register_secret(url)

    def _post(self, body: Any, deadline_s: float | None = None) -> None:
        import asyncio

        if not self._url:
            raise DeliveryError(f"{self.name}: {self._source} is not set")
        import httpx

        try:
            httpx.URL(self._url)
        except Exception:  # noqa: BLE001 - the message would repeat the URL
            raise DeliveryError(f"{self.name}: {self._source} does not hold a valid URL (InvalidURL)") from None
        limit = min(self.timeout, deadline_s) if deadline_s is not None else self.timeout
        try:
            status = _post_within(self._url, body, max(limit, 0.1))
        except (asyncio.TimeoutError, TimeoutError):
            raise DeliveryError(f"{self.name}: no complete answer within {limit:.0f} s (deadline)") from None
        except Exception as exc:  # noqa: BLE001 - any failure stays in this channel
            # The exception text repeats the URL, and the URL is the secret: name the kind only.
            raise DeliveryError(f"{self.name}: {type(exc).__name__} (endpoint unreachable or URL invalid)") from None
        if status >= 300:
            raise DeliveryError(f"{self.name}: HTTP {status}")


class SlackChannel(_HttpChannel):
    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None:
        self._post(slack_payload(message), deadline_s)


class WebhookChannel(_HttpChannel):
    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None:
        self._post(message, deadline_s)


# Prometheus re-sends a firing alert every evaluation and sets `endsAt` a few intervals ahead;
# the alert sensor re-posts open incidents every ALERTMANAGER_RESEND_S with this lifetime.
ALERTMANAGER_RESEND_S = 300.0
ALERTMANAGER_TTL_S = 4 * ALERTMANAGER_RESEND_S


class AlertmanagerChannel(_HttpChannel):
    """Posts incidents to Alertmanager's `/api/v2/alerts`; Alertmanager then groups, silences,
    inhibits, repeats and routes them. Lifecycle notices are not alerts and are not sent here."""

    def __init__(self, name: str, url: str | None, timeout: float, url_env: str | None = None,
                 clock: Any = None) -> None:
        if url:
            url = url.rstrip("/")
            if not url.endswith("/api/v2/alerts"):
                url += "/api/v2/alerts"
        super().__init__(name, url, timeout, url_env)
        import time

        self._clock = clock or time.time

    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None:
        if message.get("notice") is not None or not message.get("alerts"):
            return
        self._post(alertmanager_alerts(message, self._clock(), ALERTMANAGER_TTL_S), deadline_s)


class EmailChannel:
    def __init__(self, name: str, *, host: str, port: int, starttls: bool, verify_tls: bool,
                 username: str | None, password: str | None, sender: str, recipients: list[str],
                 timeout: float, password_env: str | None = None) -> None:
        self.name = name
        self._password = password
        self._password_env = password_env
        self._username = username
        register_secret(password)
        auth = ""
        if username:
            auth = quote(username, safe="")
            if password:
                auth += ":" + quote(password, safe="")
            auth += "@"
        scheme = "mailtos" if starttls else "mailto"
        params = {
            "smtp": host, "from": sender, "to": ",".join(recipients),
            "verify": "yes" if verify_tls else "no", "cto": str(int(timeout)),
        }
        if starttls:
            params["mode"] = "starttls"
        query = "&".join(f"{k}={quote(v, safe=',@')}" for k, v in params.items())
        self._url = f"{scheme}://{auth}{host}:{port}/?{query}"

    def send(self, message: dict[str, Any], deadline_s: float | None = None) -> None:
        import apprise

        if self._password_env and self._password is None:
            # Sending without the password would fail as an authentication error naming nothing.
            raise DeliveryError(f"{self.name}: ${self._password_env} is not set")
        notifier = apprise.Apprise()
        if not notifier.add(self._url):
            raise DeliveryError(f"{self.name}: invalid email settings")
        with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
            ok = notifier.notify(title=message["title"], body=message["text"])
        if not ok:
            detail = " ".join(captured.getvalue().split())[-300:] or "SMTP delivery failed"
            raise DeliveryError(redact(f"{self.name}: {detail}", [self._password]))
