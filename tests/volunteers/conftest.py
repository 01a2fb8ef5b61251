import pytest
from django.core.cache import cache
from django.utils import translation

from communities.models import Role
from tests import factories as f


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in their English message ids (pages in Chinese are tested apart)."""
    with translation.override("en"):
        yield


@pytest.fixture
def en_client(client, settings):
    """A browser that picked English with the language switch (pages say their message ids)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def director(community):
    return f.staff(community, Role.DIRECTOR)


@pytest.fixture
def community_worker(community):
    return f.staff(community, Role.CASEWORKER)


@pytest.fixture
def sibling_director(sibling_community):
    return f.staff(sibling_community, Role.DIRECTOR)
