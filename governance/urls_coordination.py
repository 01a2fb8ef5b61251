"""一呼百应 pages (namespace "coordination"): whistles, meetings and action items, polls, notices."""

from django.urls import path

from .coordination.views import meetings, polls, whistles

urlpatterns = [
    path("whistles/", whistles.whistle_list, name="whistles"),
    path("whistles/blow/<str:code>/", whistles.blow, name="blow"),
    path("whistles/<int:pk>/", whistles.whistle_detail, name="whistle"),
    path(
        "whistles/<int:pk>/summons/<int:summons_pk>/<slug:action>/",
        whistles.summons_action,
        name="summons_action",
    ),
    path("meetings/", meetings.meeting_list, name="meetings"),
    path("meetings/new/", meetings.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/<slug:action>/", meetings.meeting_action, name="meeting_action"),
    path("meetings/actions/", meetings.action_item_list, name="action_items"),
    path("meetings/actions/<int:pk>/", meetings.action_item_detail, name="action_item"),
    path("notices/<int:pk>/", meetings.notice, name="notice"),
    path("polls/", polls.poll_list, name="polls"),
    path("polls/new/", polls.poll_new, name="poll_new"),
    path("polls/<int:pk>/", polls.poll_detail, name="poll"),
    path("polls/<int:pk>/ballot/", polls.ballot_new, name="ballot_new"),
    path("polls/<int:pk>/ballots/<int:ballot_pk>/correct/", polls.ballot_correct, name="ballot_correct"),
    path("polls/<int:pk>/visits/", polls.visit_list, name="visits"),
    path("polls/<int:pk>/close/", polls.poll_close, name="poll_close"),
]
