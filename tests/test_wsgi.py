"""The WSGI module the app servers load (gunicorn governance.wsgi)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, sys
import governance.wsgi
print(gc.get_freeze_count(), 'cases.views' in sys.modules)
"""


def test_the_app_is_loaded_and_frozen_out_of_the_collectors_reach_before_the_first_request():
    """A full collection would otherwise walk every object of the loaded app (a pause of 100 ms and
    more, once every few hundred requests: the slowest 1 % of the form's requests)."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    frozen, views_loaded = out.stdout.split()
    assert int(frozen) > 50_000
    assert views_loaded == "True"
