"""What each role may do with whistles, meetings and polls (where: governance.coordination.selectors)."""

from django.db import migrations

from communities.roles import grant, revoke

MODELS = [
    "whistle", "summons", "meeting", "participant", "agendaitem", "decision", "actionitem",
    "actionupdate", "poll", "elector", "ballot",
]
READ = [f"governance.view_{model}" for model in MODELS]
WHISTLE = ["governance.add_whistle", "governance.assess_response"]
MEET = ["governance.add_meeting", "governance.change_meeting", "governance.change_actionitem"]
PUBLISH = ["governance.publish_notice"]
POLL = ["governance.add_poll", "governance.close_poll"]
BALLOT = ["governance.record_ballot"]
LEAD = READ + WHISTLE + MEET + PUBLISH + POLL + BALLOT

PERMISSIONS = {
    "secretary": LEAD,
    "director": LEAD,
    "deputy_director": LEAD,
    "dispatcher": READ + WHISTLE + MEET,
    "caseworker": READ + MEET + POLL + BALLOT,
    "grid_worker": READ + MEET + BALLOT,
    # Liaisons see what their department was summoned or invited to (guardian grants).
    "department_liaison": READ + ["governance.report_summons", "governance.change_actionitem"],
    "supervisor": READ,
    "administrator": READ,
}


def forwards(apps, schema_editor):
    grant(apps, PERMISSIONS)


def backwards(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0001_initial"),
        ("cases", "0002_role_permissions"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
