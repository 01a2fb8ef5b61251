"""Role groups and what each role may do with the tree (views for all, edits for administrators)."""

from django.db import migrations

from communities.roles import grant, revoke

ROLES = [
    "secretary", "director", "deputy_director", "dispatcher", "caseworker",
    "grid_worker", "department_liaison", "supervisor", "administrator",
]
MODELS = ["unit", "building", "stairwell", "household", "department", "partnerorganisation", "post"]
VIEW = [f"communities.view_{model}" for model in MODELS]
EDIT = [f"communities.{action}_{model}" for model in MODELS for action in ("add", "change", "delete")]
USERS = ["auth.view_user", "auth.add_user", "auth.change_user"]

PERMISSIONS = {role: VIEW for role in ROLES}
PERMISSIONS["administrator"] = VIEW + EDIT + USERS


def forwards(apps, schema_editor):
    grant(apps, PERMISSIONS)


def backwards(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
