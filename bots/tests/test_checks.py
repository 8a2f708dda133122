from cryptography.fernet import Fernet

from bots.checks import check_secrets_keys_configured, check_secrets_keys_valid


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
