"""Feature selection, log transform and scalers for clustering."""

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.clustering.features import check_features, feature_frame, make_scaler
from rfm.errors import RFMInputError

TABLE = pd.DataFrame(
    {
        schema.RECENCY: [0, 10, 100],
        schema.FREQUENCY: [1, 3, 9],
        schema.MONETARY: [0.0, 99.0, -5.0],
        schema.TENURE: [5, 50, 500],
        schema.AVG_ORDER_VALUE: [0.0, 33.0, 1.0],
    },
    index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
)


def test_default_features_take_log1p_of_frequency_and_monetary():
    frame = feature_frame(TABLE)
    assert list(frame.columns) == [schema.RECENCY, schema.FREQUENCY, schema.MONETARY]
    assert frame[schema.RECENCY].tolist() == [0.0, 10.0, 100.0]
    assert frame[schema.FREQUENCY].tolist() == pytest.approx(np.log([2, 4, 10]).tolist())
    # A negative value (a net refund) is clipped to 0 before the log: log1p(0) = 0.
    assert frame[schema.MONETARY].tolist() == pytest.approx([0.0, np.log(100), 0.0])
    assert list(frame.index) == ["a", "b", "c"]


def test_chosen_features_without_logs():
    frame = feature_frame(TABLE, (schema.TENURE, schema.AVG_ORDER_VALUE), ())
    assert frame.to_numpy().tolist() == [[5.0, 0.0], [50.0, 33.0], [500.0, 1.0]]


@pytest.mark.parametrize(
    ("features", "logs", "scaler", "message"),
    [
        ((), (), "standard", r"non-empty choice"),
        (("age",), (), "standard", r"got \['age'\]"),
        ((schema.RECENCY,), (schema.MONETARY,), "standard", r"log_features \['monetary'\] are not among"),
        ((schema.RECENCY,), (), "minmax", r"scaler='minmax' should be 'standard' or 'robust'"),
    ],
)
def test_bad_choices_are_named(features, logs, scaler, message):
    with pytest.raises(RFMInputError, match=message):
        check_features(features, logs, scaler)


def test_a_missing_column_is_named():
    with pytest.raises(RFMInputError, match=r"no column 'tenure_days'"):
        feature_frame(TABLE.drop(columns=schema.TENURE), (schema.TENURE,), ())


def test_scalers():
    values = np.array([[1.0], [2.0], [3.0], [100.0]])
    standard = make_scaler("standard").fit_transform(values)
    assert standard.mean() == pytest.approx(0.0) and standard.std() == pytest.approx(1.0)
    robust = make_scaler("robust").fit_transform(values)
    assert robust[:, 0].tolist() == pytest.approx([(v - 2.5) / (27.25 - 1.75) for v in (1, 2, 3, 100)])
