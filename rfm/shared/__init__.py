"""What every step may use, and which uses no step: number checks and distinct rows (``numeric``), and how much data
each step needs, with the message that says what is missing (``data_needs``).

In: plain arrays, counts and thresholds. Out: booleans, counts, constants and :class:`rfm.errors.TooLittleDataError`.
Uses: ``rfm.errors`` only.
"""
