"""The project's shared templates (top-level templates/): the admin's chrome."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_wears_the_projects_shared_templates(client, owner):
    client.force_login(owner)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "D.I.T. — Do It Together" in response.content.decode()
    assert "| D.I.T. admin</title>" in response.content.decode()
