"""一呼百应: whistles (吹哨报到), deliberation meetings and household consent polls.

``services`` changes state (one transaction each, timeline on the case), ``selectors``
reads (scoped through ``communities.selectors.scope``), ``consent`` is the exact
arithmetic of a poll, ``groups`` the per-department groups that carry guardian grants.
"""
