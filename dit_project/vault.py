"""Secrets at rest and in memory: Fernet encryption with rotating keys, and a value that will not print itself.

Every app that stores a secret (bot settings, provider API keys) uses this one module, so one
DIT_SECRETS_KEYS setting serves the whole project.

Keys come from ``settings.DIT_SECRETS_KEYS`` (Fernet keys; the first encrypts, every one decrypts, so a
new key is added in front and an old one removed once nothing uses it). With no keys configured, one is
derived from SECRET_KEY, which keeps development simple and is warned about by ``check --deploy``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from dit_project import redaction
from dit_project.errors import SecretsKeyError

MASK = "••••"


@dataclass(frozen=True)
class SecretValue:
    """A secret setting value: prints as the mask; call `reveal()` where the plain text is really needed."""

    _value: str = field(repr=False)

    def __post_init__(self) -> None:
        # A secret this process holds is masked in every log line and error record from now on.
        redaction.remember(self._value)

    def reveal(self) -> str:
        """The plain secret, for handing to the one client that needs it (never to a log or a response)."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"SecretValue({MASK})"


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from SECRET_KEY when DIT_SECRETS_KEYS is empty."""
    digest = hashlib.sha256(b"dit-secrets-at-rest:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(derived_key(secret_key))])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode()))
        except ValueError as exc:
            raise SecretsKeyError(
                f"DIT_SECRETS_KEYS entry {position} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'"
            ) from exc
    return MultiFernet(fernets)


def keyring() -> MultiFernet:
    """The MultiFernet built from the current settings (cached per key set)."""
    return _keyring(tuple(settings.DIT_SECRETS_KEYS), settings.SECRET_KEY)


def seal(plain: str) -> str:
    """Encrypt a secret with the first key; the token is what gets stored."""
    return keyring().encrypt(plain.encode()).decode()


def unseal(token: str, *, name: str) -> str:
    """Decrypt a stored secret with any configured key; `name` says which secret failed."""
    try:
        return keyring().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsKeyError(
            f"The stored value of {name} cannot be decrypted with any key in DIT_SECRETS_KEYS; "
            "put back the key it was saved with, or set the secret again"
        ) from exc
