"""Monthly themes (每月一题) and proactive home visits (未呼先应), and what each role may do with them."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from communities.roles import grant, revoke

THEME_READ = ["governance.view_theme"]
THEME_LINK = ["governance.change_theme"]
THEME_LEAD = THEME_READ + THEME_LINK + ["governance.add_theme", "governance.close_theme"]
CARE_READ = ["governance.view_careneed", "governance.view_visit"]
CARE_WORK = CARE_READ + ["governance.add_careneed", "governance.change_careneed", "governance.add_visit",
                         "governance.record_visit"]

PERMISSIONS = {
    "secretary": THEME_LEAD + CARE_WORK,
    "director": THEME_LEAD + CARE_WORK,
    "deputy_director": THEME_LEAD + CARE_WORK,
    "dispatcher": THEME_READ + THEME_LINK,
    "caseworker": THEME_READ + THEME_LINK + CARE_WORK,
    "grid_worker": THEME_READ + CARE_WORK,
    "supervisor": THEME_READ + CARE_READ,
    "administrator": THEME_READ + CARE_READ + ["governance.change_careneed"],  # corrects details, stops visits
}


def forwards(apps, schema_editor):
    grant(apps, PERMISSIONS)


def backwards(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_seed_categories'),
        ('communities', '0002_role_groups'),
        ('governance', '0003_projects'),
        ('volunteers', '0002_skills_and_role_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CareNeed',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('unit_path', models.CharField(db_index=True, editable=False, max_length=255)),
                ('kind', models.CharField(choices=[('elderly_alone', 'Elderly living alone'), ('empty_nest', 'Elderly couple on their own'), ('disability', 'Disability'), ('illness', 'Serious illness'), ('hardship', 'Financial hardship'), ('other', 'Other')], max_length=16, verbose_name='kind')),
                ('person_name', models.CharField(blank=True, max_length=50, verbose_name='who')),
                ('phone', models.CharField(blank=True, max_length=20, verbose_name='phone')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('visit_every_days', models.PositiveSmallIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(366)], verbose_name='visit every (days)')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='flagged')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('household', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='care_needs', to='communities.household', verbose_name='household')),
                ('unit', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='communities.unit', verbose_name='grid or community')),
            ],
            options={
                'verbose_name': 'household needing attention',
                'verbose_name_plural': 'households needing attention',
                'ordering': ['unit_path', 'household'],
            },
        ),
        migrations.CreateModel(
            name='Theme',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('unit_path', models.CharField(db_index=True, editable=False, max_length=255)),
                ('month', models.DateField(help_text='The first day of the month the theme is adopted for.', verbose_name='month')),
                ('title', models.CharField(max_length=120, verbose_name='title')),
                ('description', models.TextField(blank=True, verbose_name='what the problem is')),
                ('source', models.CharField(choices=[('hotspot', 'From a hotspot'), ('manual', 'By hand')], default='manual', max_length=16, verbose_name='found')),
                ('status', models.CharField(choices=[('adopted', 'Adopted'), ('closed', 'Closed')], default='adopted', max_length=16, verbose_name='status')),
                ('adopted_at', models.DateTimeField(verbose_name='adopted')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed')),
                ('outcome', models.TextField(blank=True, verbose_name='outcome')),
                ('adopted_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='adopted by')),
                ('category', models.ForeignKey(blank=True, help_text='Cases of this category count towards the theme.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='themes', to='cases.category', verbose_name='category')),
                ('lead_department', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='themes', to='communities.department', verbose_name='leading department')),
                ('place', models.ForeignKey(blank=True, help_text='Only cases located here count (empty: anywhere under the adopting unit).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='communities.unit', verbose_name='where')),
                ('unit', models.ForeignKey(help_text='The area, street or community that takes the theme on.', on_delete=django.db.models.deletion.PROTECT, related_name='themes', to='communities.unit', verbose_name='adopted by')),
            ],
            options={
                'verbose_name': 'monthly theme',
                'verbose_name_plural': 'monthly themes',
                'ordering': ['-month', 'title'],
                'permissions': [('close_theme', 'Can close a monthly theme')],
            },
        ),
        migrations.CreateModel(
            name='ThemeCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('added_at', models.DateTimeField(auto_now_add=True, verbose_name='linked')),
                ('added_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='theme_links', to='cases.case', verbose_name='case')),
                ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links', to='governance.theme')),
            ],
            options={
                'verbose_name': 'case linked to a theme',
                'verbose_name_plural': 'cases linked to a theme',
            },
        ),
        migrations.CreateModel(
            name='ThemeEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(verbose_name='when')),
                ('action', models.CharField(max_length=24, verbose_name='action')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='governance.theme')),
            ],
            options={
                'verbose_name': 'theme event',
                'verbose_name_plural': 'theme events',
                'ordering': ['at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ThemeProblem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.CharField(max_length=200, verbose_name='problem')),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='problems', to='governance.theme')),
            ],
            options={
                'verbose_name': 'problem under a theme',
                'verbose_name_plural': 'problems under a theme',
                'ordering': ['theme', 'position', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='Visit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('due_on', models.DateField(db_index=True, verbose_name='due')),
                ('visited_on', models.DateField(blank=True, null=True, verbose_name='visited')),
                ('visitor_name', models.CharField(blank=True, max_length=50, verbose_name='visited by')),
                ('outcome', models.CharField(blank=True, choices=[('all_well', 'All well'), ('needs_help', 'Needs help'), ('not_home', 'Nobody at home')], max_length=16, verbose_name='outcome')),
                ('finding', models.TextField(blank=True, verbose_name='what was found')),
                ('recorded_at', models.DateTimeField(blank=True, null=True, verbose_name='recorded')),
                ('assigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='grid worker')),
                ('case', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='care_visit', to='cases.case', verbose_name='case raised')),
                ('need', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='visits', to='governance.careneed', verbose_name='household')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                ('volunteer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='care_visits', to='volunteers.volunteer', verbose_name='building head')),
            ],
            options={
                'verbose_name': 'home visit',
                'verbose_name_plural': 'home visits',
                'ordering': ['due_on', 'pk'],
                'permissions': [('record_visit', 'Can record a home visit and raise a case from it')],
            },
        ),
        migrations.AddConstraint(
            model_name='careneed',
            constraint=models.UniqueConstraint(fields=('household', 'kind'), name='careneed_unique_kind'),
        ),
        migrations.AddIndex(
            model_name='theme',
            index=models.Index(fields=['unit_path', 'month'], name='theme_scope_month'),
        ),
        migrations.AddConstraint(
            model_name='theme',
            constraint=models.UniqueConstraint(fields=('unit', 'month', 'category'), name='theme_unique_category_month'),
        ),
        migrations.AddConstraint(
            model_name='themecase',
            constraint=models.UniqueConstraint(fields=('theme', 'case'), name='themecase_unique'),
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(fields=['visited_on', 'due_on'], name='visit_open_due'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
