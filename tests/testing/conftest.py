"""Tests of the pytest plugin itself: most run small test suites through `pytester`.

Each inner suite gets `esme.py`, a tiny smpplib client with a reader thread (a receipt only
counts once a client answers it), and an ini file selecting pytest-asyncio's mode.
"""

from __future__ import annotations

import textwrap

import pytest
from plugin_helpers import ESME_SOURCE


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory with `esme.py` and pytest-asyncio in auto mode."""
    pytester.makepyfile(esme=ESME_SOURCE)
    pytester.makeini(
        textwrap.dedent(
            """
            [pytest]
            asyncio_mode = auto
            asyncio_default_fixture_loop_scope = function
            """
        )
    )
    return pytester
