"""Choice sets by name, for the schema's enum components (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]):
several models have a ``status`` or a ``kind`` and each deserves its own, stable name."""

from cases.models import Case, Urgency
from governance.models import Meeting, Poll, Theme
from volunteers.models import Activity, Volunteer

from .intake import API_SOURCES

URGENCIES = Urgency.choices
CASE_SOURCES = Case.Source.choices
INTAKE_SOURCES = API_SOURCES
CASE_STATUSES = Case.Status.choices
CASE_KINDS = Case.Kind.choices
VOLUNTEER_STATUSES = Volunteer.Status.choices
ACTIVITY_KINDS = Activity.Kind.choices
MEETING_STATUSES = Meeting.Status.choices
POLL_STATUSES = Poll.Status.choices
THEME_STATUSES = Theme.Status.choices
THEME_SOURCES = Theme.Source.choices
