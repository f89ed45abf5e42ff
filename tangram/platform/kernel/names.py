"""The shape of keys: apps, definitions, groups and roles are named by them."""

import re

#: A key: a lowercase letter, then up to 62 lowercase letters, digits or ``_``.
KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: What a refused key is told.
KEY_HINT = "use a lowercase letter, then lowercase letters, digits or '_'"
