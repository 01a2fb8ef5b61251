"""The append-only security log: its table, a PostgreSQL trigger refusing UPDATE and DELETE
(SQLite relies on the model and admin refusing them), and view permission for administrators."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from communities.roles import grant, revoke

PERMISSIONS = {"administrator": ["communities.view_securityevent"]}
GUARD = """
CREATE OR REPLACE FUNCTION communities_securityevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'communities_securityevent is append-only: % refused', TG_OP;
END $$;
DROP TRIGGER IF EXISTS communities_securityevent_append_only ON communities_securityevent;
CREATE TRIGGER communities_securityevent_append_only
    BEFORE UPDATE OR DELETE ON communities_securityevent
    FOR EACH ROW EXECUTE FUNCTION communities_securityevent_append_only();
"""
UNGUARD = """
DROP TRIGGER IF EXISTS communities_securityevent_append_only ON communities_securityevent;
DROP FUNCTION IF EXISTS communities_securityevent_append_only();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        # Idempotent SQL through a plain cursor: tests replay data migrations after a flush.
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


def grant_view(apps, schema_editor):
    grant(apps, PERMISSIONS)


def revoke_view(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0002_role_groups'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SecurityEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='time')),
                ('kind', models.CharField(choices=[('login_failed', 'Login failed'), ('locked_out', 'Locked out after repeated failures'), ('unlocked', 'Unlocked by an administrator'), ('auth_failed', 'API credentials refused'), ('denied', 'Access denied'), ('not_found', "Object outside the user's scope or missing"), ('pii_revealed', 'Personal data revealed')], editable=False, max_length=20, verbose_name='kind')),
                ('username', models.CharField(blank=True, editable=False, max_length=150, verbose_name='user name')),
                ('ip', models.GenericIPAddressField(blank=True, editable=False, null=True, verbose_name='address')),
                ('method', models.CharField(blank=True, editable=False, max_length=8, verbose_name='method')),
                ('path', models.CharField(blank=True, editable=False, max_length=500, verbose_name='address requested')),
                ('unit_path', models.CharField(blank=True, db_index=True, editable=False, max_length=255)),
                ('detail', models.JSONField(blank=True, default=dict, editable=False, verbose_name='detail')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'security log entry',
                'verbose_name_plural': 'security log',
                'ordering': ['-at', '-pk'],
                'default_permissions': ('view',),
            },
        ),
        migrations.RunPython(_on_postgresql(GUARD), _on_postgresql(UNGUARD)),
        migrations.RunPython(grant_view, revoke_view),
    ]
