"""Project-wide pytest fixtures: named users and API clients."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytest_plugins = [
    "tests.servers.local_discord",
    "tests.servers.openai_server",
    "bots.host.tests.hostkit",
    "reactor.tests.stack",
    "tests.leakguard",
]


def pytest_configure(config: pytest.Config) -> None:
    """Keep this session's change stamps apart from another session's sharing the same Redis."""
    prefix = f"{settings.DATABASES['default']['TEST']['NAME']}:stamp"
    settings.DIT_STAMP_PREFIX = prefix
    os.environ["DIT_STAMP_PREFIX"] = prefix  # for the processes a test starts


@pytest.fixture
def owner(db):
    """A superuser: runs the bots."""
    return get_user_model().objects.create_superuser("owner", "owner@example.com", "owner-pass-123")


@pytest.fixture
def moderator(db):
    """Staff without superuser powers."""
    return get_user_model().objects.create_user("moderator", "mod@example.com", "mod-pass-123", is_staff=True)


@pytest.fixture
def member(db):
    """A signed-in user who is not staff."""
    return get_user_model().objects.create_user("member", "member@example.com", "member-pass-123")


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def owner_client(owner) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner)
    return client


@pytest.fixture
def member_client(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member)
    return client
