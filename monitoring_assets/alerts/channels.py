"""Delivery channels. Each `send` either returns (delivered) or raises DeliveryError with a
message that never contains a secret.

Email goes through Apprise, which handles SMTP, STARTTLS and authentication. Slack and the
generic webhook are single JSON POSTs through `requests`: Apprise's Slack plugin always
posts to hooks.slack.com, so it cannot reach Slack-compatible endpoints (Mattermost,
Rocket.Chat, a proxy) or a local stand-in, and its JSON plugin has a fixed payload shape
that cannot carry the documented alert fields.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests

from monitoring_assets.alerts.messages import slack_payload


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
_REDACTED_LOGGERS = ("urllib3.connectionpool", "requests", "apprise")


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
    parts = urlsplit(url_or_value)
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

    def send(self, message: dict[str, Any]) -> None: ...


class ConsoleChannel:
    def __init__(self, name: str, stream: Any = None) -> None:
        self.name = name
        self.stream = stream

    def send(self, message: dict[str, Any]) -> None:
        print(message["text"], file=self.stream or sys.stdout, flush=True)


class FileChannel:
    """Appends one JSON document per message (the webhook payload) to a file."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = Path(path)

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(message, default=str) + "\n")
        except OSError as exc:
            raise DeliveryError(f"{self.name}: cannot write {self.path}: {exc.strerror}") from None


class _HttpChannel:
    def __init__(self, name: str, url: str | None, timeout: float) -> None:
        self.name = name
        self._url = url
        self.timeout = timeout
        register_secret(url)

    def _post(self, body: dict[str, Any]) -> None:
        if not self._url:
            raise DeliveryError(f"{self.name}: its URL environment variable is not set")
        try:
            response = requests.post(self._url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            # The exception text repeats the URL, and the URL is the secret: name the kind only.
            raise DeliveryError(f"{self.name}: {type(exc).__name__} (endpoint unreachable)") from None
        if response.status_code >= 300:
            raise DeliveryError(f"{self.name}: HTTP {response.status_code}")


class SlackChannel(_HttpChannel):
    def send(self, message: dict[str, Any]) -> None:
        self._post(slack_payload(message))


class WebhookChannel(_HttpChannel):
    def send(self, message: dict[str, Any]) -> None:
        self._post(message)


class EmailChannel:
    def __init__(self, name: str, *, host: str, port: int, starttls: bool, verify_tls: bool,
                 username: str | None, password: str | None, sender: str, recipients: list[str],
                 timeout: float) -> None:
        self.name = name
        self._password = password
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

    def send(self, message: dict[str, Any]) -> None:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(self._url):
            raise DeliveryError(f"{self.name}: invalid email settings")
        with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
            ok = notifier.notify(title=message["title"], body=message["text"])
        if not ok:
            detail = " ".join(captured.getvalue().split())[-300:] or "SMTP delivery failed"
            raise DeliveryError(redact(f"{self.name}: {detail}", [self._password]))
