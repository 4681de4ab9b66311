"""Teacher-score normalisation and candidate-list ordering (method step 5).

The reranker's raw scores live on an arbitrary scale (logits, probabilities, LLM grades), so they are
mapped to ``[0, 1]`` per (dataset, query type, retriever) file before they enter the listwise loss::

    t = clip((r - P1) / (P99 - P1), 0, 1)

with ``P1`` and ``P99`` the 1st and 99th percentiles (NumPy's default linear interpolation) of every raw
score in that file. Each query's list is then sorted by ``t``, cut to ``k`` (20) and starts with the
query's source passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

LOW_PERCENTILE = 1.0
HIGH_PERCENTILE = 99.0

IdT = TypeVar("IdT")


def normalize_teacher_scores(raw: np.ndarray) -> np.ndarray:
    """Map one file's raw teacher scores to ``[0, 1]`` with the P1/P99 rule.

    The caller passes *all* raw scores of one (dataset, query type, retriever) file at once (any shape);
    the percentiles are taken over every element.

    Degenerate case: when ``P99 == P1`` (at least 98 % of the scores share one value, e.g. an LLM judge
    that grades almost everything 0) the formula divides by zero. The range then widens to the full
    ``[min, max]`` of the file, i.e. ``t = (r - min) / (max - min)``: it keeps the teacher's ordering and
    grades, which is all the listwise loss and the de-noising rule look at, instead of collapsing the few
    informative scores onto the plateau. When every score is equal the teacher expresses no preference and
    every ``t`` is ``1.0``: any constant gives the same uniform ``P_t``, and a positive constant (unlike
    ``0``) makes the de-noising rule treat every candidate as a possible positive rather than a safe
    negative, which is the cautious reading of a teacher that cannot tell them apart.

    Args:
        raw: raw reranker scores of one file; must be non-empty and finite.

    Returns:
        float64 array of the same shape with values in ``[0, 1]``.

    Raises:
        ValueError: if ``raw`` is empty or holds NaN/inf.
    """
    scores = np.asarray(raw, dtype=np.float64)
    if scores.size == 0:
        raise ValueError("no teacher scores to normalise")
    if not np.isfinite(scores).all():
        raise ValueError("teacher scores must be finite")
    low, high = np.percentile(scores, [LOW_PERCENTILE, HIGH_PERCENTILE])
    if high <= low:
        low, high = scores.min(), scores.max()
        if high <= low:
            return np.ones_like(scores)
    return np.clip((scores - low) / (high - low), 0.0, 1.0)


def sort_and_cut(
    candidate_ids: Sequence[IdT], scores: Sequence[float] | np.ndarray, source_id: IdT, k: int = 20
) -> tuple[list[IdT], np.ndarray]:
    """Order one query's candidates for training: source passage first, the rest by teacher score.

    The source passage always takes position 0 (even if the teacher scored another candidate higher;
    the teacher filter of step 4 normally makes that moot) and is never cut. The other candidates follow
    in descending teacher score, ties keeping their input (retrieval) order, and the list is cut to ``k``
    entries in total.

    Args:
        candidate_ids: unique passage ids of the query's candidates; must contain ``source_id``.
        scores: teacher score of each candidate (normalised or raw: only the order matters here).
        source_id: id of the passage the query was written from.
        k: list length after the cut (source included).

    Returns:
        ``(ids, scores)``: at most ``k`` ids and their scores as a float64 array, aligned.

    Raises:
        ValueError: on mismatched lengths, duplicate ids, non-finite scores, a missing source or ``k < 1``.
    """
    ids = list(candidate_ids)
    values = np.asarray(scores, dtype=np.float64)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if values.shape != (len(ids),):
        raise ValueError(f"{len(ids)} candidate ids but scores of shape {values.shape}")
    if len(set(ids)) != len(ids):
        raise ValueError("candidate ids must be unique")
    if not np.isfinite(values).all():
        raise ValueError("teacher scores must be finite")
    if source_id not in ids:
        raise ValueError(f"source passage {source_id!r} is not among the candidates")
    source = ids.index(source_id)
    order = [int(i) for i in np.argsort(-values, kind="stable") if i != source]
    keep = [source, *order[: k - 1]]
    return [ids[i] for i in keep], values[keep]
