import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.cases.factories import CategoryFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle counters live in the cache, keyed by user id: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    """A system's client: ``Authorization: Token <key>``."""
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client




@pytest.fixture
def category(db):
    return CategoryFactory(code="lighting", name="楼道照明", public_name="楼道灯不亮")
