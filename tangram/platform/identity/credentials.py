"""Secrets handed out once (API tokens, intake links, session cookies): how they are made and
what is stored of them.

A secret carries 256 bits of entropy, so its SHA-256 is all that is kept (a slow hash adds
nothing); a lookup prefix, where there is one, finds the row without a scan.
"""

from __future__ import annotations

import hashlib
import secrets


def new_secret(marker: str) -> tuple[str, str]:
    """A fresh ``<marker>_<prefix>_<random>`` secret and its lookup prefix (only a hash is kept)."""
    prefix = secrets.token_hex(6)
    return prefix, f"{marker}_{prefix}_{secrets.token_urlsafe(32)}"


def secret_prefix(raw: str, marker: str) -> str | None:
    """The lookup prefix of a secret made by :func:`new_secret`, or None when malformed."""
    parts = raw.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == marker and parts[1] else None


def secret_hash(secret: str) -> str:
    """What is stored of a secret: its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
