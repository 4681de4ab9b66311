import numpy as np
import pytest

from specialize_trainer.teacher_norm import normalize_teacher_scores, sort_and_cut


def _percentile_by_hand(values, q):
    """Linear-interpolation percentile written out: position (n - 1) * q / 100 in the sorted values."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = int(np.floor(position))
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def test_integer_percentiles_and_clipping():
    raw = np.arange(101, dtype=np.float32)  # P1 = 1, P99 = 99
    t = normalize_teacher_scores(raw)
    assert t.dtype == np.float64
    assert t[0] == 0.0  # below P1: clipped
    assert t[1] == 0.0
    assert t[50] == pytest.approx(49 / 98)
    assert t[99] == 1.0
    assert t[100] == 1.0  # above P99: clipped
    assert t.min() == 0.0 and t.max() == 1.0


def test_interpolated_percentiles_match_a_hand_computation():
    raw = [0.0, 10.0, 20.0, 30.0]
    low, high = _percentile_by_hand(raw, 1), _percentile_by_hand(raw, 99)
    assert (low, high) == pytest.approx((0.3, 29.7))
    expected = [min(max((r - low) / (high - low), 0.0), 1.0) for r in raw]
    np.testing.assert_allclose(normalize_teacher_scores(np.array(raw)), expected, rtol=1e-12)


def test_whole_file_is_normalised_together_and_shape_is_kept():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(7, 20)) * 5 - 3
    low, high = _percentile_by_hand(raw.ravel().tolist(), 1), _percentile_by_hand(raw.ravel().tolist(), 99)
    expected = np.array([[min(max((r - low) / (high - low), 0.0), 1.0) for r in row] for row in raw])
    t = normalize_teacher_scores(raw)
    assert t.shape == (7, 20)
    np.testing.assert_allclose(t, expected, rtol=1e-12, atol=1e-15)
    assert (t == 0.0).sum() >= 1 and (t == 1.0).sum() >= 1


def test_all_equal_scores_give_ones():
    np.testing.assert_array_equal(normalize_teacher_scores(np.full(5, -2.5)), np.ones(5))


def test_plateau_falls_back_to_min_max():
    # An LLM judge grading almost everything 0: P1 == P99 == 0, so the range widens to [min, max].
    raw = np.concatenate([np.zeros(300), [3.0, 1.0]])
    t = normalize_teacher_scores(raw)
    assert t[-2] == 1.0
    assert t[-1] == pytest.approx(1 / 3)
    assert (t[:300] == 0.0).all()


@pytest.mark.parametrize("raw", [np.array([]), np.array([1.0, np.nan]), np.array([np.inf, 0.0])])
def test_rejects_empty_or_non_finite(raw):
    with pytest.raises(ValueError):
        normalize_teacher_scores(raw)


def test_sort_and_cut_orders_by_score_with_source_first():
    ids, scores = sort_and_cut(["a", "b", "c", "d"], [0.2, 0.9, 0.5, 0.7], source_id="c", k=3)
    assert ids == ["c", "b", "d"]
    np.testing.assert_array_equal(scores, [0.5, 0.9, 0.7])
    assert scores.dtype == np.float64


def test_sort_and_cut_keeps_source_even_when_ranked_last_and_ties_stay_stable():
    ids, _ = sort_and_cut(["x", "y", "z", "s"], [0.4, 0.8, 0.4, 0.0], source_id="s", k=3)
    assert ids == ["s", "y", "x"]
    ids, _ = sort_and_cut(list(range(30)), np.linspace(1, 0, 30), source_id=0)
    assert ids == list(range(20))


@pytest.mark.parametrize(
    ("ids", "scores", "source", "k"),
    [
        (["a", "b"], [1.0, 0.5], "z", 20),  # source missing
        (["a", "a"], [1.0, 0.5], "a", 20),  # duplicate id
        (["a", "b"], [1.0], "a", 20),  # length mismatch
        (["a", "b"], [1.0, np.nan], "a", 20),  # non-finite
        (["a", "b"], [1.0, 0.5], "a", 0),  # k too small
    ],
)
def test_sort_and_cut_rejects_bad_input(ids, scores, source, k):
    with pytest.raises(ValueError):
        sort_and_cut(ids, scores, source, k=k)
