"""The suite's settings: the project's, read as the embedded default reads them.

``DEBUG`` is on when the settings module runs (so no production secret is required and static
files need no manifest); pytest-django then turns it off for the tests themselves. Worker
processes started by the suite inherit this environment. The production startup checks run in
fresh processes with an explicit environment (tests/pixee/test_settings.py).
"""

import os

os.environ.setdefault("DEBUG", "true")

from pixee.settings import *  # noqa: F403
