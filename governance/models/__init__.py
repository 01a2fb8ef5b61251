"""Models of the coordination app, one module per subject; this file only lists them."""

from .meetings import ActionItem, ActionUpdate, AgendaItem, Decision, Meeting, Participant
from .polls import Ballot, Elector, Poll
from .whistles import Summons, Whistle
from .projects import Project, ProjectEvent, ProjectUpdate
from .themes import Theme, ThemeCase, ThemeEvent, ThemeProblem
from .visits import CareNeed, Visit
