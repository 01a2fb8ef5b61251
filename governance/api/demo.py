"""Demo: the 12345 platform's system account and its API token (development only; the key is published)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from communities import services
from communities.models import Role, Unit

USERNAME = "hotline-12345"
TOKEN = "demo-hotline-12345-token-not-a-secret-00"  # 40 characters, like a generated key


@dataclass
class ApiAccount:
    username: str
    token: str
    unit: str


@transaction.atomic
def load(area_code: str = "yanshan") -> ApiAccount:
    """A dispatcher post at the area (pushes 12345 orders, reads results) and a fixed token. Idempotent."""
    area = Unit.objects.get(code=area_code)
    user, _created = get_user_model().objects.get_or_create(username=USERNAME, defaults={"first_name": "12345平台"})
    user.set_unusable_password()  # a system account signs in with its token only
    user.save(update_fields=["password"])
    services.assign_post(user=user, unit=area, role=Role.DISPATCHER)
    Token.objects.filter(user=user).exclude(key=TOKEN).delete()
    Token.objects.get_or_create(user=user, defaults={"key": TOKEN})
    return ApiAccount(USERNAME, TOKEN, area.name)
