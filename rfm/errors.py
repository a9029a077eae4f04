"""The one exception type for bad input."""

from __future__ import annotations


class RFMInputError(ValueError):
    """Raised when an input file or setting cannot be used.

    The message names the column, the count and an example row, so that it can be shown to a
    user as it is (the app shows it with ``st.error``; the CLI prints it and exits with code 2).
    """


class TooLittleDataError(RFMInputError):
    """Raised when the file is readable but holds too little for a step (too few customers, repeat buyers or
    days of history; see :mod:`rfm.shared.data_needs`).

    The message names the threshold, what the data has and what is missing. A page shows it as a warning
    rather than an error: nothing is wrong with the file, it is only too small for this view.
    """
