"""Secrets out of text bound for a log line, an error record or Sentry: one `scrub` every such path calls.

What is masked: the values of the secret settings (SECRET_KEY, the vault's keys, provider and gateway
tokens, the metrics token, the Sentry DSN, the database password), every secret a `SecretValue` held in
this process (bot tokens, provider keys unsealed from the vault), Authorization headers and bearer tokens,
and passwords inside URLs. Values shorter than MIN_SECRET_LENGTH would mask ordinary words and are skipped.
"""

from __future__ import annotations

import re
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MASK = "••••"
MIN_SECRET_LENGTH = 6
# Settings whose values are secrets; a list setting (DIT_SECRETS_KEYS) contributes each entry.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "DIT_SECRETS_KEYS",
    "OPENAI_API_KEY",
    "DIT_GATEWAY_TOKEN",
    "DIT_METRICS_TOKEN",
    "SENTRY_DSN",
)
# A process holds a handful of secrets; the bound only stops a bug from growing the set without end.
MAX_REMEMBERED = 512

_AUTHORIZATION = re.compile(
    r"""(?ix)
    (\b(?:http_)?(?:proxy-)?authorization['"]?\s*[:=]\s*['"]?)  # the header's name, as text, JSON or a META key
    (?:(bearer|basic|token|bot)\s+)?                            # its scheme, kept
    [^\s'",;}\]]+                                               # the credential, masked
    """
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@", re.IGNORECASE)

_remembered: set[str] = set()
_lock = threading.Lock()


def remember(secret: str) -> None:
    """Mask this value wherever it appears in text scrubbed from now on (in this process)."""
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if len(_remembered) < MAX_REMEMBERED:
            _remembered.add(secret)


def secret_values() -> list[str]:
    """Every known secret value, longest first (so a secret containing another is masked whole)."""
    values = set(_remembered)
    if settings.configured:
        for name in SECRET_SETTINGS:
            try:
                value = getattr(settings, name, "")
            except ImproperlyConfigured:  # a half-configured process (a script): a log line must still be written
                continue
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, str) and len(item.strip()) >= MIN_SECRET_LENGTH:
                    values.add(item.strip())
        for database in getattr(settings, "DATABASES", {}).values():
            password = database.get("PASSWORD") or ""
            if len(password) >= MIN_SECRET_LENGTH:
                values.add(password)
    return sorted(values, key=len, reverse=True)


def _authorization(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{MASK}"


def scrub(text: str) -> str:
    """The text with every known secret, Authorization header, bearer token and URL password masked."""
    for secret in secret_values():
        if secret in text:
            text = text.replace(secret, MASK)
    text = _AUTHORIZATION.sub(_authorization, text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {MASK}", text)
    return _URL_PASSWORD.sub(lambda match: f"{match.group(1)}{MASK}@", text)
