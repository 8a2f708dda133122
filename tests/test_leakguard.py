"""The leak guard itself: it must catch a secret in a log line or a response body."""

import logging

import pytest

from tests.leakguard import assert_no_leak


def test_a_secret_in_the_log_text_fails_the_check():
    with pytest.raises(AssertionError, match="log output"):
        assert_no_leak(sealed=["super-secret-value"], log_text="token is super-secret-value", bodies=[])


def test_a_secret_in_a_response_body_fails_the_check():
    with pytest.raises(AssertionError, match="HTTP response"):
        assert_no_leak(sealed=["super-secret-value"], log_text="", bodies=[b'{"token": "super-secret-value"}'])


def test_masked_output_passes_the_check():
    assert_no_leak(sealed=["super-secret-value"], log_text="token is \u2022\u2022\u2022\u2022", bodies=[b"{}"])


def test_the_guard_records_what_was_sealed(secrets_never_leak):
    from dit_project.vault import seal

    seal("recorded-secret")

    assert secrets_never_leak == ["recorded-secret"]


@pytest.mark.django_db
def test_a_masked_secret_value_logs_as_the_mask(client, caplog, secrets_never_leak):
    from dit_project.vault import MASK, SecretValue, seal

    seal("another-secret-value")
    logging.getLogger(__name__).warning("token is %s", SecretValue("another-secret-value"))

    assert caplog.records[-1].getMessage() == f"token is {MASK}"
    assert client.get("/health").status_code == 200
