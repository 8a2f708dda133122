import pytest
from cryptography.fernet import Fernet

from gateway.encryption import decrypt_secret, encrypt_secret
from gateway.errors import SecretDecryptionFailed


def test_a_secret_round_trips_and_is_not_stored_in_clear(settings):
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]

    stored = encrypt_secret("sk-live-123")

    assert "sk-live-123" not in stored
    assert decrypt_secret(stored, what="the key") == "sk-live-123"


def test_with_no_keys_configured_a_key_derived_from_secret_key_is_used(settings):
    settings.DIT_SECRETS_KEYS = []

    stored = encrypt_secret("sk-dev")

    assert decrypt_secret(stored, what="the key") == "sk-dev"
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(SecretDecryptionFailed):
        decrypt_secret(stored, what="the key")


def test_keys_rotate_new_first_old_still_decrypts(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.DIT_SECRETS_KEYS = [old]
    stored = encrypt_secret("sk-rotating")

    settings.DIT_SECRETS_KEYS = [new, old]

    assert decrypt_secret(stored, what="the key") == "sk-rotating"
    assert Fernet(new.encode()).decrypt(encrypt_secret("x").encode()) == b"x"


def test_a_missing_key_names_the_setting_and_the_secret(settings):
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]
    stored = encrypt_secret("sk-lost")
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(SecretDecryptionFailed, match=r"provider 'x'.*DIT_SECRETS_KEYS"):
        decrypt_secret(stored, what="The API key of provider 'x'")


def test_a_malformed_key_setting_says_how_to_make_one(settings):
    settings.DIT_SECRETS_KEYS = ["not-a-key"]

    with pytest.raises(SecretDecryptionFailed, match="generate_key"):
        encrypt_secret("sk")


def test_the_empty_secret_stays_empty():
    assert encrypt_secret("") == ""
    assert decrypt_secret("", what="nothing") == ""
