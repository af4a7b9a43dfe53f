"""Silence one known deprecation inside kombu's SQLAlchemy transport (the embedded broker).

kombu 5.7.0 (the newest release) declares its queue->messages relationship with
`lazy="noload"`, which SQLAlchemy 2.1 deprecates: the first query of every process that uses
the SQLite broker warns `SADeprecationWarning: The noload loader strategy is deprecated`.
The relationship is never loaded by kombu, so the warning has no consequence for us, and we
cannot fix kombu's model from here. The filter matches only that message raised from that
module, so any other deprecation (ours or kombu's) still shows.

`tests/test_deprecations.py` checks the warning still happens without this filter: when a
kombu release fixes it, that test fails and this module can go.
"""

from __future__ import annotations

import warnings

NOLOAD_MESSAGE = r"The ``noload`` loader strategy is deprecated"
KOMBU_SQLALCHEMY_MODULE = r"kombu\.transport\.sqlalchemy"


def ignore_kombu_sqlalchemy_deprecations() -> None:
    """Install the filter (idempotent: `warnings` drops an identical earlier entry)."""
    warnings.filterwarnings(
        "ignore",
        message=NOLOAD_MESSAGE,
        category=DeprecationWarning,  # SQLAlchemy's SADeprecationWarning subclasses it
        module=KOMBU_SQLALCHEMY_MODULE,
    )
