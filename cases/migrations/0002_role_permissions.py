"""What each role may do with cases (where they may do it is the tree: cases.selectors)."""

from django.db import migrations

from communities.roles import grant, revoke

READ = ["cases.view_case", "cases.view_category", "cases.view_categorydeadline"]
HANDLE = ["cases.handle_case", "cases.reveal_phone"]
LEAD = ["cases.supervise_case", "cases.export_case", "cases.decide_extension"]
HISTORY = [
    f"cases.view_{model}"
    for model in (
        "timelineevent", "cohandling", "contactrecord", "attachment", "supervision",
        "extensionrequest", "returnvisit", "phonereveal", "notification", "monthlyscore",
    )
]
TAXONOMY = [
    f"cases.{action}_{model}"
    for model in ("category", "categorydeadline")
    for action in ("add", "change", "delete")
]

PERMISSIONS = {
    "dispatcher": READ + [
        "cases.dispatch_case", "cases.import_cases", "cases.export_case",
        "cases.decide_extension", "cases.record_return_visit",
    ],
    "caseworker": READ + HANDLE,
    "grid_worker": READ + HANDLE,
    "secretary": READ + LEAD,
    "director": READ + LEAD,
    "deputy_director": READ + LEAD,
    "supervisor": READ + ["cases.export_case"],
    # A liaison holds the permission; guardian grants decide which cases they see and handle.
    "department_liaison": READ + ["cases.handle_case"],
    "administrator": READ + HISTORY + TAXONOMY,
}


def forwards(apps, schema_editor):
    grant(apps, PERMISSIONS)


def backwards(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("communities", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
