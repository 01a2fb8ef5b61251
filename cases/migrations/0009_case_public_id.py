"""Case.public_id: a random id for the public Open311 feed (service_request_id), instead of the
sequential primary key. Existing cases get theirs in batches, then the column becomes required."""

import secrets

from django.db import migrations, models

import cases.models

BATCH = 2000


def fill_public_ids(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    while True:
        batch = list(Case.objects.filter(public_id__isnull=True).only("pk")[:BATCH])
        if not batch:
            return
        for case in batch:
            case.public_id = secrets.token_hex(8)
        Case.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_phonereveal_reason"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True, verbose_name="public id"),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="case",
            name="public_id",
            field=models.CharField(
                default=cases.models.new_public_id, editable=False, max_length=16, verbose_name="public id",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(fields=("public_id",), name="case_public_id_unique"),
        ),
    ]
