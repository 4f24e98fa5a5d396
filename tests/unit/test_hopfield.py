import numpy as np
import pytest
from nnpuzzles.hopfield import random_patterns, score_table


def test_random_patterns_are_plus_minus_one():
    patterns = random_patterns(50, 200, np.random.default_rng(0))
    assert patterns.shape == (50, 200)
    assert set(np.unique(patterns)) == {-1.0, 1.0}
    assert abs(patterns.mean()) < 0.02


def test_random_patterns_dilution_fraction_and_reproducible():
    a = random_patterns(20, 5000, np.random.default_rng(1), dilution=0.3)
    b = random_patterns(20, 5000, np.random.default_rng(1), dilution=0.3)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {-1.0, 0.0, 1.0}
    assert abs(np.mean(a == 0) - 0.3) < 0.01


@pytest.mark.parametrize("kwargs", [{"dilution": 1.0}, {"dilution": -0.1}])
def test_random_patterns_rejects_bad_dilution(kwargs):
    with pytest.raises(ValueError, match="dilution"):
        random_patterns(2, 3, np.random.default_rng(0), **kwargs)


def test_score_table_layout_and_ranks():
    scores = {"wine": {"knn": [0.9, 0.92], "svm": [0.98, 0.96]},
              "iris": {"knn": [0.95, 0.95], "svm": [0.96, 0.98]}}
    table = score_table(scores)
    lines = table.splitlines()
    assert lines[0].startswith("model") and lines[0].endswith("mean rank")
    assert "0.970 ± 0.010" in lines[2]  # svm wins both data sets
    assert lines[2].startswith("svm") and lines[3].startswith("knn")
    assert table == score_table(scores)  # deterministic
    with pytest.raises(ValueError, match="expected"):
        score_table({"a": {"x": [1]}, "b": {"y": [1]}})
