"""Error pages in Chinese: 404, 500, and 503 when the database cannot be reached."""

from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_errors(settings, client):
    settings.DEBUG = False  # DEBUG shows Django's technical pages instead
    client.raise_request_exception = False
    return client


def test_unreachable_database_is_503_with_retry_after(production_errors):
    with mock.patch("rectify.views.connection.cursor", side_effect=OperationalError("server closed the connection")):
        response = production_errors.get("/healthz")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "数据库暂时无法连接" in response.content.decode()


def test_a_bug_is_a_plain_500_in_chinese(production_errors):
    with mock.patch("rectify.views.connection.cursor", side_effect=ValueError("a bug")):
        response = production_errors.get("/healthz")
    assert response.status_code == 500
    page = response.content.decode()
    assert "系统出错" in page and "a bug" not in page


def test_unknown_page_is_404_in_chinese(production_errors, coal_liaison):
    production_errors.force_login(coal_liaison)
    response = production_errors.get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()
