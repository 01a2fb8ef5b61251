"""What every transition shares: the row lock, the compare-and-set, the timeline, notices."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Post, Role, Unit

from .. import tallies, timeline
from ..models import Case, Notification, TimelineEvent
from .rules import S, IllegalTransition, display_name

HANDLING_ROLES = (Role.CASEWORKER, Role.GRID_WORKER, Role.DISPATCHER)


def lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("handler", "dispatching_unit").get(pk=case.pk)


def compare_and_set(case: Case, *, expect: str, extra_filter: dict | None = None, **changes) -> Case:
    """Write ``changes`` only if the row still has status ``expect``; refuse the loser of a race."""
    changes["updated_at"] = timezone.now()
    if expect == S.MERGED and "rated_at" in changes:
        changes["awaits_visit"] = False  # the merged caller rated the lead's result
    if "unit" in changes:
        changes["unit_path"] = changes["unit"].path
    before = tallies.Keys(case) if tallies.counts_change(changes, from_status=expect) else None
    in_hand_changes = bool(tallies.WORK_FIELDS & changes.keys())
    in_hand_before = tallies.work_key(case) if in_hand_changes else None
    updated = Case.objects.filter(pk=case.pk, status=expect, **(extra_filter or {})).update(**changes)
    if updated != 1:
        current = Case.objects.select_related("handler").get(pk=case.pk)
        if current.handler_id and current.status == S.ACCEPTED and case.status == S.DISPATCHED:
            raise IllegalTransition(
                _("This case has already been accepted by %(name)s.") % {"name": display_name(current.handler)}
            )
        raise IllegalTransition(
            _("Someone else changed this case just now (it is %(status)s); reload it and try again.")
            % {"status": current.get_status_display()}
        )
    for field, value in changes.items():
        setattr(case, field, value)
    if before is not None:
        tallies.refresh(before, tallies.Keys(case))
    if in_hand_changes:
        tallies.refresh_work(in_hand_before, tallies.work_key(case))
    _merged_callers_follow(case, expect, changes.get("status", expect))
    return case


def _merged_callers_follow(lead: Case, before: str, after: str) -> None:
    """The callers merged into ``lead`` wait for a return visit once it is resolved (again), not once it reopens."""
    if after == S.RESOLVED and before != S.RESOLVED:
        callers, waiting = Case.objects.filter(merged_into=lead, status=S.MERGED), True
    elif before in Case.ANSWERED and after not in Case.ANSWERED:
        callers, waiting = Case.objects.filter(merged_into=lead, status=S.MERGED, awaits_visit=True), False
    else:
        return
    # A caller counts in the work in hand while waiting: the tallies of their units follow.
    keys = [
        tallies.WorkKey(unit, S.MERGED, supervised, True, path)
        for unit, supervised, path in callers.filter(unit__isnull=False)
        .values_list("unit_id", "is_supervised", "unit_path").distinct().order_by()
    ]
    if callers.update(awaits_visit=waiting):
        tallies.refresh_work(*keys)


def record(
    case: Case, *, action: str, by=None, actor_label: str = "", from_status: str = "",
    to_status: str = "", note: str = "", public: bool = False, data: dict | None = None, at=None,
) -> TimelineEvent:
    """Append one line to the case's timeline (``at``: when it happened, if not now), for an action
    with a registered label (``cases.timeline``)."""
    if not timeline.is_registered(action):
        raise ImproperlyConfigured(
            f"Timeline action {action!r} has no label: register it with cases.timeline.register "
            "in the ready() of the app that writes it."
        )
    return TimelineEvent.objects.create(
        case=case, at=at or timezone.now(), actor=by, actor_label=actor_label, action=action,
        from_status=from_status, to_status=to_status or from_status, note=note, public=public,
        data=data or {},
    )


def attach_photos(case: Case, photos, event: TimelineEvent, by=None, public: bool = True) -> None:
    if not photos:
        return
    from ..uploads import store_photos  # owned by the public-intake part; imported when needed

    store_photos(case=case, photos=photos, event=event, by=by, public=public)


def notify(users, *, case: Case, kind: str, message: str, actor=None) -> None:
    """One bulk insert, whatever the number of recipients; nobody is told of their own act."""
    text = (message or case.title)[:200]
    recipients = set(users) - {getattr(actor, "pk", None)}
    Notification.objects.bulk_create(
        [Notification(user_id=uid, case=case, kind=kind, message=text) for uid in sorted(recipients)]
    )


def staff_of(unit: Unit | None, roles) -> list[int]:
    if unit is None:
        return []
    return list(
        Post.objects.active().filter(unit=unit, role__in=roles).values_list("user_id", flat=True)
    )


