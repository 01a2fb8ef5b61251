"""Staff pages of the request lifecycle under /cases/ (namespace ``cases``).

Every view looks cases up through ``selectors.visible_cases`` (directly or through a
queue), so a sibling unit's case is a 404 everywhere. Actions call one service each;
whether a move is allowed is decided there (``services.ensure``), never in a view.
"""
