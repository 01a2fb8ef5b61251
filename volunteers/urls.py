"""The volunteer corps under /volunteers/ (namespace ``volunteers``)."""

from django.urls import path, re_path

from cases.urls_staff import CaseCodeConverter  # noqa: F401 - registers the "case_code" converter

from .views import activities, buildings, hours, me, public, roster, suggestions, tasks, teams

app_name = "volunteers"
urlpatterns = [
    # the roster and one volunteer
    path("", roster.roster, name="roster"),
    path("applications/", roster.applications, name="applications"),
    path("new/", roster.add, name="add"),
    path("import/", roster.import_roster, name="import"),
    re_path(r"^import/template\.(?P<fmt>csv|xlsx)$", roster.import_template, name="import_template"),
    path("<int:pk>/", roster.volunteer, name="volunteer"),
    path("<int:pk>/edit/", roster.edit, name="edit"),
    path("<int:pk>/approve/", roster.approve, name="approve"),
    path("<int:pk>/decline/", roster.decline, name="decline"),
    path("<int:pk>/status/", roster.change_status, name="status"),
    path("<int:pk>/login/", roster.link_login, name="link_login"),
    path("<int:pk>/phone/", roster.reveal_phone, name="reveal_phone"),
    path("<int:pk>/credit/", roster.credit, name="credit"),
    path("hours/<int:pk>/correct/", roster.correct, name="correct"),
    # teams
    path("teams/", teams.teams, name="teams"),
    path("teams/new/", teams.add, name="team_add"),
    path("teams/<int:pk>/", teams.team, name="team"),
    path("teams/<int:pk>/edit/", teams.edit, name="team_edit"),
    path("teams/<int:pk>/members/", teams.add_member, name="team_add_member"),
    path("teams/<int:pk>/members/<int:volunteer_pk>/remove/", teams.remove_member, name="team_remove_member"),
    path("teams/<int:pk>/leader/", teams.set_leader, name="team_leader"),
    # activities
    path("activities/", activities.calendar, name="calendar"),
    path("activities/new/", activities.add, name="activity_add"),
    path("activities/<int:pk>/", activities.activity, name="activity"),
    path("activities/<int:pk>/edit/", activities.edit, name="activity_edit"),
    path("activities/<int:pk>/cancel/", activities.cancel, name="activity_cancel"),
    path("activities/<int:pk>/sign-up/", activities.sign_up, name="sign_up"),
    path("sign-ups/<int:pk>/attendance/", activities.attendance, name="attendance"),
    re_path(r"^sign-ups/(?P<pk>\d+)/(?P<action>check-in|check-out|no-show|cancel)/$", activities.signup_action,
            name="signup_action"),
    # hours and totals
    path("hours/", hours.hours, name="hours"),
    path("totals/", hours.totals, name="totals"),
    # tasks from cases
    path("tasks/from/<case_code:code>/", tasks.assign, name="assign_task"),
    path("tasks/<int:pk>/", tasks.task, name="task"),
    path("tasks/<int:pk>/report/", tasks.report, name="task_report"),
    path("tasks/<int:pk>/cancel/", tasks.cancel, name="task_cancel"),
    # 党员包楼
    path("buildings/", buildings.buildings, name="buildings"),
    path("buildings/assign/", buildings.assign, name="assign_building"),
    path("buildings/assignments/<int:pk>/end/", buildings.end, name="end_assignment"),
    # 建言献策
    path("suggestions/", suggestions.suggestions, name="suggestions"),
    path("suggestions/new/", suggestions.add, name="suggestion_add"),
    path("suggestions/<int:pk>/", suggestions.suggestion, name="suggestion"),
    path("suggestions/<int:pk>/answer/", suggestions.answer, name="suggestion_answer"),
    path("suggestions/<int:pk>/case/", suggestions.to_case, name="suggestion_to_case"),
    # a volunteer's own page
    path("me/", me.me, name="me"),
    path("me/activities/<int:pk>/sign-up/", me.sign_up, name="me_sign_up"),
    path("me/sign-ups/<int:pk>/cancel/", me.cancel, name="me_cancel"),
    path("me/tasks/<int:pk>/report/", me.report, name="me_report"),
    path("me/suggestions/", me.suggest, name="me_suggest"),
    # public registration
    path("join/", public.join, name="join"),
    path("join/places/", public.places, name="join_places"),
    path("join/done/", public.done, name="join_done"),
]
