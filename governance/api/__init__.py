"""The REST API (/api/v1/), its OpenAPI 3 schema (/api/schema/) and docs (/api/docs/), and
the Open311 GeoReport v2 facade (/open311/v2/, see ``governance.api.open311``).

Who: systems send ``Authorization: Token <key>``; the key is a DRF token of a system account
(a user with a post, e.g. a dispatcher at the area for the 12345 platform), created in the
admin ("Tokens") or with ``manage.py drf_create_token <username>``. A signed-in browser uses
its session; writes then need the CSRF token (``X-CSRFToken``), which the docs page sends.

What: the same role permissions as the pages (403 without them) and the same scoping
selectors (another unit's object is 404). Lists are cursor pages (``?cursor=…&page_size=``,
at most 200), newest first for cases; filters are query parameters (see the schema).

- ``cases/``: list, detail (timeline and ``allowed_actions``), POST registers a request via
  ``cases.services.intake`` (a 12345 push with a known ``hotline_order_no`` answers 200 with
  the case made the first time; a new one is 201); ``cases/{code}/{action}/`` for each
  transition of ``cases.services.TRANSITIONS`` (dispatch, accept, contact, progress, resolve,
  request-extension, decide-extension, record-return-visit, close, reassign, add-co-handler,
  supervise, lift-supervision, return, merge, exclude-from-rates, reveal-phone).
- ``categories/``, ``units/`` (and ``units/{code}/scores/?month=YYYY-MM``: 三率 and ranking),
  ``buildings/``, ``monthly-scores/`` (frozen months), ``volunteers/``, ``activities/``,
  ``meetings/``, ``polls/`` (read only).

Errors are ``{"detail", "code", "errors"?}``: 400 invalid input (``errors`` per field), 401,
403, 404, 409 a move the case's state refuses (with the reason), 429 with ``Retry-After``.
Rates per account (per address when anonymous) and scope in the shared cache:
``API_READ_RATE``, ``API_WRITE_RATE``, ``OPEN311_READ_RATE``, ``OPEN311_WRITE_RATE``.
"""
