"""The project's one secrets vault: Fernet with rotating keys from DIT_SECRETS_KEYS."""

import pytest
from cryptography.fernet import Fernet

from dit_project.errors import SecretsKeyError
from dit_project.vault import derived_key, seal, unseal


def test_a_sealed_secret_is_not_readable_and_unseals_to_the_original(settings):
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]

    token = seal("hunter2")

    assert "hunter2" not in token
    assert unseal(token, name="API_SECRET") == "hunter2"


def test_secrets_sealed_with_an_old_key_still_open_after_a_new_key_is_put_first(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.DIT_SECRETS_KEYS = [old]
    token = seal("hunter2")

    settings.DIT_SECRETS_KEYS = [new, old]

    assert unseal(token, name="API_SECRET") == "hunter2"
    fresh = seal("hunter3")
    settings.DIT_SECRETS_KEYS = [new]
    assert unseal(fresh, name="API_SECRET") == "hunter3"  # the first key encrypts


def test_with_no_keys_configured_the_key_is_derived_from_secret_key(settings):
    settings.DIT_SECRETS_KEYS = []
    settings.SECRET_KEY = "one-secret-key"

    token = seal("hunter2")

    assert Fernet(derived_key("one-secret-key")).decrypt(token.encode()) == b"hunter2"


def test_a_secret_that_no_configured_key_opens_is_an_error_naming_it(settings):
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]
    token = seal("hunter2")
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(SecretsKeyError, match="stored value of DISCORD_TOKEN cannot be decrypted"):
        unseal(token, name="DISCORD_TOKEN")


def test_a_malformed_key_is_an_error_naming_its_position(settings):
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode(), "not-a-key"]

    with pytest.raises(SecretsKeyError, match="DIT_SECRETS_KEYS entry 2 is not a Fernet key"):
        seal("hunter2")


def test_a_secret_value_never_prints_itself():
    from dit_project.vault import MASK, SecretValue

    value = SecretValue("hunter2")

    assert str(value) == MASK
    assert "hunter2" not in repr(value)
    assert f"{value}" == MASK
    assert value.reveal() == "hunter2"
