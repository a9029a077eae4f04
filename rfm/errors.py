"""The one exception type for bad input."""

from __future__ import annotations


class RFMInputError(ValueError):
    """Raised when an input file or setting cannot be used.

    The message names the column, the count and an example row, so that it can be shown to a
    user as it is (the app shows it with ``st.error``; the CLI prints it and exits with code 2).
    """
