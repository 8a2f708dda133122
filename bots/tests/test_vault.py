import pytest
from cryptography.fernet import Fernet

from bots.checks import check_secrets_keys_configured, check_secrets_keys_valid
from bots.errors import SecretsKeyError
from bots.vault import derived_key, seal, unseal


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


def test_the_deploy_check_warns_when_no_secrets_keys_are_set(settings):
    settings.DIT_SECRETS_KEYS = []

    messages = check_secrets_keys_configured(None)

    assert [m.id for m in messages] == ["bots.W001"]


def test_the_deploy_check_is_quiet_when_secrets_keys_are_set(settings):
    settings.DIT_SECRETS_KEYS = [Fernet.generate_key().decode()]

    assert check_secrets_keys_configured(None) == []


def test_the_deploy_check_runs_only_in_deploy_mode(settings):
    from django.core.checks import run_checks

    settings.DIT_SECRETS_KEYS = []

    assert "bots.W001" not in [m.id for m in run_checks(include_deployment_checks=False)]
    assert "bots.W001" in [m.id for m in run_checks(include_deployment_checks=True)]


def test_a_malformed_key_fails_the_system_check(settings):
    settings.DIT_SECRETS_KEYS = ["not-a-key"]

    assert [m.id for m in check_secrets_keys_valid(None)] == ["bots.E001"]
