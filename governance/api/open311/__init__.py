"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

- ``services.{json,xml}``: the active leaf categories; ``services/{service_code}.{json,xml}``
  their definitions (one optional attribute, ``kind``: the request type).
- ``requests.{json,xml}``: GET lists requests (service_request_id, service_code,
  start_date, end_date, status; 90 days and 1000 requests at most); POST registers one
  through ``cases.services.intake`` (source "api") with the web form's checks.
- ``requests/{id}.{json,xml}``, ``tokens/{token}.{json,xml}``, ``discovery.{json,xml}``.

``service_request_id`` is the case's random ``public_id``: not its database id (sequential,
so the feed could be walked by counting) and never its tracking code (the code and the
caller's phone digits open the resident's status page, so codes are not published). An
unknown id, or any other address under /open311/v2/, answers the spec's error list.
The tracking code is the request's token. ``api_key`` (POST) is the API token of a system
account allowed to register requests (a post with the dispatch or handle permission).
Reports of wrongdoing (举报) are never listed; callers' names, phones and free-text
addresses never appear. Free text (description, the result in status_notes) is published
only where ``settings.OPEN311_PUBLIC_DESCRIPTION`` is on, masked by ``present.public_text``.
"""
