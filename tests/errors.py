"""One helper for tests that check what an error says."""

import pytest


def error_message(error_type, action):
    """The message of the `error_type` that `action()` must raise."""
    with pytest.raises(error_type) as raised:
        action()
    return str(raised.value)
