"""A pytest plugin that fails any test in which a sealed secret leaks into logs or HTTP responses.

Every value encrypted through `dit_project.vault` during a test is remembered; when the test ends, none of
them may appear in the log records it produced or in the body of any response the Django test client (and
so DRF's APIClient and the admin) returned. This makes "secrets never appear in an API response, an admin
page or the log output" a property of the whole suite, not of a few tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from dit_project import vault

MIN_SECRET_LENGTH = 6  # shorter values would match ordinary text by accident


class _RecordingKeyring:
    def __init__(self, inner: Any, sealed: list[str]) -> None:
        self._inner = inner
        self._sealed = sealed

    def encrypt(self, data: bytes) -> bytes:
        self._sealed.append(data.decode(errors="replace"))
        return bytes(self._inner.encrypt(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(autouse=True)
def secrets_never_leak(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Record sealed secrets and every test-client response; check both after the test."""
    sealed: list[str] = []
    bodies: list[bytes] = []
    real_keyring = vault.keyring
    monkeypatch.setattr(vault, "keyring", lambda: _RecordingKeyring(real_keyring(), sealed))
    real_request = Client.request

    def recording_request(self: Client, **request: Any) -> Any:
        response = real_request(self, **request)
        if not getattr(response, "streaming", False):
            bodies.append(bytes(response.content))
        return response

    monkeypatch.setattr(Client, "request", recording_request)
    yield sealed
    log_text = "\n".join(record.getMessage() for record in caplog.records)
    assert_no_leak(sealed=sealed, log_text=log_text, bodies=bodies)


def assert_no_leak(*, sealed: list[str], log_text: str, bodies: list[bytes]) -> None:
    """Fail when any sealed secret appears in the log text or a response body."""
    for secret in {value for value in sealed if len(value) >= MIN_SECRET_LENGTH}:
        assert secret not in log_text, "a sealed secret appeared in the log output"
        encoded = secret.encode()
        assert not any(encoded in body for body in bodies), "a sealed secret appeared in an HTTP response"
