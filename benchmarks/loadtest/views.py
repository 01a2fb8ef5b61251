"""The two references the public form is measured against (loadtest settings only).

``bare``: the whole middleware stack, no database, no template.

``accept_only``: the least any design of the public form could do per submission: the same form
checked, its fields stored as one durable row, the same answer. No case, timeline line, tallies
or duplicate check: what a form that queued submissions for a worker would still pay. Its
table exists only while ``load_benchmark`` runs (``load.floor_table``).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from cases.forms_public import ReportForm
from cases.models import new_tracking_code
from cases.views_public import remember

FLOOR_TABLE = "loadtest_accepted"


@require_safe
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_POST
def accept_only(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    fields = {name: getattr(value, "pk", value) for name, value in form.intake_fields().items() if name != "photos"}
    code = new_tracking_code()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} (code, received_at, fields) VALUES (%s, %s, %s)",
            [code, timezone.now(), json.dumps(fields, cls=DjangoJSONEncoder, ensure_ascii=False)],
        )
    return remember(request, redirect("cases_public:done", code=code), code)
