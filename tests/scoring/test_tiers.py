"""Outlier tiers from IQR fences, on small frames whose quartiles are worked out by hand."""

import math

import pandas as pd
import pytest

from rfm import schema
from rfm.errors import RFMInputError
from rfm.scoring.tiers import ELITE_VIP, HIGH_SPENDER, POWER_SHOPPER, REGULAR, TIERS, fence_of, outlier_tiers

# Eight customers (index deliberately unsorted). Quartiles use linear interpolation between sorted values
# at position q x (n - 1) = 1.75 and 5.25:
#   monetary sorted 10 20 30 40 50 60 400 500:
#       Q1 = 20 + 0.75 x (30 - 20) = 27.5, Q3 = 60 + 0.25 x (400 - 60) = 145, IQR = 117.5
#       fence (1.5) = 145 + 176.25 = 321.25 -> g (400) and h (500) above
#       fence (3)   = 145 + 352.5  = 497.5  -> h only
#   frequency sorted 1 1 2 2 3 3 15 20:
#       Q1 = 1 + 0.75 x (2 - 1) = 1.75, Q3 = 3 + 0.25 x (15 - 3) = 6, IQR = 4.25
#       fence (1.5) = 6 + 6.375 = 12.375 -> c (15) and h (20) above
#       fence (3)   = 6 + 12.75 = 18.75  -> h only
TABLE = pd.DataFrame(
    {
        schema.RECENCY: [5, 9, 1, 30, 2, 7, 3, 4],
        schema.FREQUENCY: [1, 2, 15, 2, 3, 3, 1, 20],
        schema.MONETARY: [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 400.0, 500.0],
    },
    index=pd.Index(["h2", "a7", "c1", "z0", "b5", "q3", "m4", "e6"], name=schema.CUSTOMER_ID),
)
# The same customers by the letters of the comment above.
LETTERS = dict(zip("abcdefgh", TABLE.index))


def test_fences_by_hand():
    result = outlier_tiers(TABLE)
    monetary, frequency = result.monetary, result.frequency
    assert (monetary.metric, frequency.metric) == (schema.MONETARY, schema.FREQUENCY)
    assert (monetary.q1, monetary.q3, monetary.iqr) == pytest.approx((27.5, 145.0, 117.5))
    assert monetary.fence == pytest.approx(321.25)
    assert monetary.customers_above == 2
    assert (frequency.q1, frequency.q3, frequency.iqr) == pytest.approx((1.75, 6.0, 4.25))
    assert frequency.fence == pytest.approx(12.375)
    assert frequency.customers_above == 2
    assert monetary.multiplier == frequency.multiplier == 1.5


def test_tiers_by_hand():
    tiers = outlier_tiers(TABLE).tiers
    expected = dict.fromkeys("abcdefgh", REGULAR)
    expected.update(c=POWER_SHOPPER, g=HIGH_SPENDER, h=ELITE_VIP)
    assert tiers.to_dict() == {LETTERS[letter]: tier for letter, tier in expected.items()}


def test_a_higher_multiplier_moves_the_fence_out():
    result = outlier_tiers(TABLE, multiplier=3)
    assert result.monetary.fence == pytest.approx(497.5)
    assert result.frequency.fence == pytest.approx(18.75)
    tiers = result.tiers
    assert tiers[LETTERS["h"]] == ELITE_VIP
    assert (tiers.drop(LETTERS["h"]) == REGULAR).all()  # g (400) and c (15) are now inside the fences


def test_multiplier_zero_puts_the_fence_at_q3():
    result = outlier_tiers(TABLE, multiplier=0)
    assert (result.monetary.fence, result.frequency.fence) == pytest.approx((145.0, 6.0))


def test_the_classic_five_values():
    # 10 20 30 40 1000: positions 1 and 3 exactly -> Q1 = 20, Q3 = 40, IQR = 20, fence = 40 + 30 = 70.
    fence = fence_of(pd.Series([1000.0, 10.0, 30.0, 20.0, 40.0]), schema.MONETARY, 1.5)
    assert (fence.q1, fence.q3, fence.iqr, fence.fence, fence.customers_above) == (20.0, 40.0, 20.0, 70.0, 1)


def test_a_value_on_the_fence_is_not_above_it():
    # 10 20 30 40 70: Q1 = 20, Q3 = 40, fence (1.5) = 70, and 70 is not above 70.
    fence = fence_of(pd.Series([10.0, 20.0, 30.0, 40.0, 70.0]), schema.MONETARY, 1.5)
    assert (fence.fence, fence.customers_above) == (70.0, 0)


def test_a_customer_on_the_fence_stays_regular():
    # Monetary 10 20 30 40 70 -> fence 70; frequency 1 2 3 4 7 -> Q1 2, Q3 4, fence 4 + 3 = 7.
    table = pd.DataFrame({schema.FREQUENCY: [1, 2, 3, 4, 7], schema.MONETARY: [10.0, 20.0, 30.0, 40.0, 70.0]})
    assert (outlier_tiers(table).tiers == REGULAR).all()
    table.loc[4, schema.MONETARY] = 70.01
    assert outlier_tiers(table).tiers.tolist() == [REGULAR] * 4 + [HIGH_SPENDER]


def test_nobody_is_dropped():
    result = outlier_tiers(TABLE)
    assert result.tiers.index.equals(TABLE.index)
    assert result.tiers.notna().all()


def test_counts_in_tier_order_with_zeros():
    counts = outlier_tiers(TABLE, multiplier=3).counts()
    assert list(counts.index) == list(TIERS) == [ELITE_VIP, HIGH_SPENDER, POWER_SHOPPER, REGULAR]
    assert counts.tolist() == [1, 0, 0, 7]


@pytest.mark.parametrize("multiplier", [-0.5, math.nan])
def test_a_negative_multiplier_is_refused(multiplier):
    with pytest.raises(RFMInputError, match=rf"^IQR multiplier={multiplier} should be a number >= 0\.$"):
        outlier_tiers(TABLE, multiplier=multiplier)
