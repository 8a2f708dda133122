"""Provider API keys at rest: Fernet with rotating keys (`settings.DIT_SECRETS_KEYS`).

The first key encrypts and every key decrypts, so a new key goes in front and an old one leaves once
nothing uses it. With no keys configured, one is derived from SECRET_KEY (fine for development). The
derivation matches the rest of the project so one DIT_SECRETS_KEYS setting serves every app.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from gateway.errors import SecretDecryptionFailed

SETTING = "DIT_SECRETS_KEYS"


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
            raise SecretDecryptionFailed(
                f"{SETTING} entry {position} is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from exc
    return MultiFernet(fernets)


def keyring() -> MultiFernet:
    """The MultiFernet for the keys configured now."""
    return _keyring(tuple(settings.DIT_SECRETS_KEYS), settings.SECRET_KEY)


def encrypt_secret(plaintext: str) -> str:
    """Encrypt a secret for storage; the empty string stays empty (no secret)."""
    if not plaintext:
        return ""
    return keyring().encrypt(plaintext.encode()).decode()


def decrypt_secret(ciphertext: str, *, what: str) -> str:
    """Decrypt a stored secret; `what` names it in the error when no configured key fits."""
    if not ciphertext:
        return ""
    try:
        return keyring().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionFailed(
            f"{what} cannot be decrypted with the keys in {SETTING}: put back the key it was encrypted with, "
            "or enter the secret again in admin"
        ) from exc
