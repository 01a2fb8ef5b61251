"""Skills volunteers bring (from the field reports: 老杜 repairs heating, water valves and bicycles;
老工友 patrol and give free haircuts) and the case categories each fits; what each role may do
with the corps (where they may do it is the tree: volunteers.selectors)."""

from django.db import migrations

from communities.roles import grant, revoke

# (code, name, case category codes the skill fits)
SKILLS = [
    ("repairs", "水电维修", ["housing-stairwell", "housing-repair", "water", "power", "road-lights"]),
    ("heating", "修暖气水阀", ["heating-cold", "heating-leak", "water"]),
    ("bicycle", "修自行车", []),
    ("haircut", "理发", []),
    ("patrol", "治安巡逻", ["ebike-hazard", "group-rental", "fire-lane", "safety-hazard", "parking-illegal"]),
    ("elderly_care", "助老服务", ["elderly-meals"]),
    ("legal_advice", "法律咨询", ["education-refund", "wage-arrears", "property-certificate", "social-security"]),
    ("mediation", "矛盾调解", ["noise", "elevator", "parking-space", "housing-property"]),
    ("publicity", "政策宣传", ["garbage-sorting", "ebike-charging", "heating-fee"]),
    ("clean_up", "环境整治", ["garbage", "sanitation-pests", "road-surface"]),
    ("medical", "义诊健康咨询", []),
    ("tutoring", "课业辅导", []),
    ("counselling", "心理疏导", []),
]

MODELS = (
    "skill", "team", "volunteer", "volunteerevent", "membership", "activity", "signup", "hoursentry",
    "task", "buildingassignment", "suggestion",
)
VIEW = [f"volunteers.view_{model}" for model in MODELS]
CORPS = [
    "volunteers.add_volunteer", "volunteers.change_volunteer", "volunteers.approve_volunteer",
    "volunteers.add_team", "volunteers.change_team", "volunteers.add_activity", "volunteers.change_activity",
    "volunteers.record_hours", "volunteers.add_suggestion", "volunteers.answer_suggestion",
]
LEAD = CORPS + [
    "volunteers.correct_hours", "volunteers.import_volunteers", "volunteers.assign_building",
    "volunteers.assign_task",
]
ADMIN = [
    f"volunteers.{action}_{model}"
    for model in ("skill", "team", "membership", "buildingassignment")
    for action in ("add", "change", "delete")
]

PERMISSIONS = {
    "secretary": VIEW + LEAD,
    "director": VIEW + LEAD,
    "deputy_director": VIEW + LEAD,
    "administrator": VIEW + LEAD + ADMIN,
    "caseworker": VIEW + CORPS + ["volunteers.assign_task"],
    "grid_worker": VIEW + [
        "volunteers.add_volunteer", "volunteers.record_hours", "volunteers.add_activity",
        "volunteers.change_activity", "volunteers.add_suggestion", "volunteers.assign_task",
    ],
    "dispatcher": VIEW + ["volunteers.assign_task", "volunteers.add_suggestion", "volunteers.answer_suggestion"],
    "supervisor": VIEW,
}


def add_skills(apps, schema_editor):
    Skill = apps.get_model("volunteers", "Skill")
    Category = apps.get_model("cases", "Category")
    for order, (code, name, categories) in enumerate(SKILLS):
        skill, _ = Skill.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order * 10})
        skill.categories.add(*Category.objects.filter(code__in=categories))


def forwards(apps, schema_editor):
    add_skills(apps, schema_editor)
    grant(apps, PERMISSIONS)


def backwards(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0001_initial"),
        ("cases", "0003_seed_categories"),
        ("communities", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
