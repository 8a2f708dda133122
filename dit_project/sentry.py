"""Optional forwarding of errors to Sentry (sentry-sdk), started by settings only when SENTRY_DSN is set.

Django, Celery and logging integrations are sentry-sdk's defaults; no personal data is sent
(`send_default_pii` off), and every string of an event passes through the project's scrubber first.
"""

from __future__ import annotations

from typing import Any

from dit_project.redaction import scrub


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's `before_send`: the event with secrets masked in every string."""
    return dict(_scrubbed(event))


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    """Start sentry-sdk for this process."""
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,  # type: ignore[arg-type]
    )
