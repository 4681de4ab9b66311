"""The training loss against an independent float64 reference of the method, gradchecks, and hand-built masks.

The reference re-derives method step 6 (``/work/shared/method.md``) with plain Python loops over a batch
held as Python lists; it never calls :mod:`specialize_trainer.losses`. The batch layout handed to the module
is the one ``training.py`` builds: every query's real candidates are stored one after the other (so a
passage retrieved for several queries occurs several times), ``-1`` pads each row to 20 columns, and the
teacher value at a padded position is arbitrary.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from specialize_trainer.losses import (
    combined_loss,
    contrastive_infonce,
    denoise_mask,
    listwise_kl,
    scatter_teacher_scores,
)

STUDENT_TEMPERATURE = 0.05
TEACHER_TEMPERATURE = 0.3
CONTRASTIVE_TEMPERATURE = 0.01
CONTRASTIVE_WEIGHT = 0.1
DENOISE_RATIO = 0.6
WIDTH = 20
DIM = 8
TOLERANCE = 1e-9
SEEDS = range(12)


@dataclass
class ReferenceBatch:
    """A batch as plain Python data.

    Attributes:
        queries: ``[Q, D]`` float64 query embeddings.
        passages: ``[P, D]`` float64 embeddings, one row per occurrence of a passage in a candidate list.
        lists: per query, the rows of ``passages`` that are its candidates, source passage first.
        teacher: per query, the normalised teacher score of each candidate in ``lists``.
        docs: the document id of each row of ``passages``.
        pad_teacher: the (meaningless) teacher value written at padded positions of the tensor layout.
        dtype: the dtype of the embeddings given to the module (the values are exact in it).
    """

    queries: np.ndarray
    passages: np.ndarray
    lists: list[list[int]]
    teacher: list[list[float]]
    docs: list[str]
    pad_teacher: float = 0.0
    dtype: torch.dtype = torch.float64


# ---------------------------------------------------------------- independent reference of method step 6


def _cosine(a, b):
    """Cosine of two vectors, with explicit float64 sums."""
    dot = math.fsum(float(x) * float(y) for x, y in zip(a, b))
    return dot / (math.sqrt(math.fsum(float(x) ** 2 for x in a)) * math.sqrt(math.fsum(float(y) ** 2 for y in b)))


def _log_sum_exp(values):
    """``log(sum(exp(v)))`` of a list, shifted by its maximum."""
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def _log_softmax(values, temperature):
    """``log(softmax(v / temperature))`` of a list."""
    logits = [v / temperature for v in values]
    norm = _log_sum_exp(logits)
    return [logit - norm for logit in logits]


def _reference_listwise(batch):
    """``mean_q KL(P_t || P_s)`` over each query's own candidates, ``P_t = softmax(t / 0.3)``, ``P_s = softmax(s / 0.05)``."""
    total = []
    for query, rows, teacher in zip(batch.queries, batch.lists, batch.teacher):
        student = [_cosine(query, batch.passages[row]) for row in rows]
        log_p_teacher = _log_softmax(teacher, TEACHER_TEMPERATURE)
        log_p_student = _log_softmax(student, STUDENT_TEMPERATURE)
        total.append(math.fsum(math.exp(lt) * (lt - ls) for lt, ls in zip(log_p_teacher, log_p_student)))
    return math.fsum(total) / len(total)


def _reference_keep(batch, use_teacher=True, ratio=DENOISE_RATIO):
    """Which rows stay in each query's InfoNCE denominator, by the method's de-noising rule.

    Every row of the batch is a candidate negative. For query ``q`` drop every duplicate of its positive's
    document id and, with the teacher, every occurrence of a document that ``q``'s teacher scores above
    ``ratio`` times ``q``'s top score (``q`` has scores only for its own candidates). The positive stays.
    """
    keep = []
    for rows, teacher in zip(batch.lists, batch.teacher):
        positive = rows[0]
        top = max(teacher)
        high = {batch.docs[row] for row, score in zip(rows, teacher) if use_teacher and score > ratio * top}
        keep.append(
            [
                row == positive or (doc != batch.docs[positive] and doc not in high)
                for row, doc in enumerate(batch.docs)
            ]
        )
    return keep


def _reference_infonce(batch, keep, temperature=CONTRASTIVE_TEMPERATURE):
    """``mean_q [log sum_{j kept} exp(s(q, p_j) / T) - s(q, pos) / T]`` over the whole batch."""
    total = []
    for query, rows, kept in zip(batch.queries, batch.lists, keep):
        logits = [_cosine(query, passage) / temperature for passage in batch.passages]
        total.append(_log_sum_exp([logit for logit, k in zip(logits, kept) if k]) - logits[rows[0]])
    return math.fsum(total) / len(total)


def _reference_total(batch):
    """``L = L_list + 0.1 * L_con`` with the de-noised InfoNCE."""
    return _reference_listwise(batch) + CONTRASTIVE_WEIGHT * _reference_infonce(batch, _reference_keep(batch))


# ---------------------------------------------------------------- batches


def _tensors(batch, width=WIDTH):
    """The module's layout of ``batch``: query and passage embeddings, candidate index, teacher scores, ids."""
    candidate_index = torch.full((len(batch.lists), width), -1, dtype=torch.long)
    teacher = torch.full((len(batch.lists), width), batch.pad_teacher, dtype=torch.float64)
    for q, (rows, scores) in enumerate(zip(batch.lists, batch.teacher)):
        candidate_index[q, : len(rows)] = torch.tensor(rows)
        teacher[q, : len(rows)] = torch.tensor(scores, dtype=torch.float64)
    return (
        torch.tensor(batch.queries, dtype=batch.dtype),
        torch.tensor(batch.passages, dtype=batch.dtype),
        candidate_index,
        teacher,
        list(batch.docs),
    )


def _full_teacher(batch):
    """``[Q, P]`` teacher score of each row for each query, NaN where the query has no score for it."""
    full = np.full((len(batch.lists), len(batch.docs)), np.nan)
    for q, (rows, scores) in enumerate(zip(batch.lists, batch.teacher)):
        for row, score in zip(rows, scores):
            full[q, row] = score
    return torch.tensor(full)


def _random_batch(seed):
    """A random batch with the features that make the masks bite.

    1-6 queries with 1-20 candidates each; documents drawn from a small pool so they recur across lists;
    queries that share their source passage; a query's positive among the next query's negatives; about a
    quarter of the negatives scored above 0.6 x the top; some queries whose source is not the teacher's
    top; each occurrence with its own embedding (so a mixed-up row shows); some batches in float32.
    """
    rng = np.random.default_rng(seed)
    num_queries = int(rng.integers(1, 7))
    lengths = [int(n) for n in rng.integers(1, WIDTH + 1, size=num_queries)]
    pool = [f"doc{k}" for k in range(max(4, sum(lengths) // 2))]
    bases = {doc: rng.normal(size=DIM) for doc in pool}
    positives = [str(doc) for doc in rng.choice(pool[: max(2, num_queries - 1)], size=num_queries)]
    queries, passages, lists, teacher, docs = [], [], [], [], []
    for q, length in enumerate(lengths):
        others = [doc for doc in pool if doc != positives[q]]
        negatives = [str(doc) for doc in rng.choice(others, size=min(length - 1, len(others)), replace=False)]
        previous = positives[q - 1] if q else None
        if negatives and previous not in (None, positives[q]) and previous not in negatives:
            negatives[-1] = previous
        top = rng.uniform(0.5, 1.0)
        near = [rng.uniform(0.6, 1.0) if rng.random() < 0.25 else rng.uniform(0.0, 0.6) for _ in negatives]
        scores = [top] + sorted((top * u for u in near), reverse=True)
        if rng.random() < 0.25:  # the teacher does not rank the source first
            scores[0] = top * rng.uniform(0.3, 0.95)
        rows = []
        for doc in [positives[q]] + negatives:
            rows.append(len(docs))
            docs.append(doc)
            passages.append((bases[doc] + 0.05 * rng.normal(size=DIM)) * rng.uniform(0.5, 2.0))
        queries.append((0.6 * bases[positives[q]] + 0.6 * rng.normal(size=DIM)) * rng.uniform(0.5, 2.0))
        lists.append(rows)
        teacher.append([float(s) for s in scores])
    dtype = torch.float32 if seed % 3 == 2 else torch.float64
    round_trip = np.float32 if dtype == torch.float32 else np.float64
    return ReferenceBatch(
        queries=np.asarray(queries).astype(round_trip).astype(np.float64),
        passages=np.asarray(passages).astype(round_trip).astype(np.float64),
        lists=lists,
        teacher=teacher,
        docs=docs,
        pad_teacher=[0.0, float("nan"), 7.5][seed % 3],
        dtype=dtype,
    )


def test_random_batches_exercise_every_rule():
    """Guards the reference comparisons below against vacuous inputs."""
    seen = dict.fromkeys(
        [
            "teacher_drop",
            "teacher_drop_matters_at_0.01",
            "duplicate_drop",
            "shared_source",
            "source_not_top",
            "padding",
            "float32",
            "one_query",
        ],
        0,
    )
    for seed in SEEDS:
        batch = _random_batch(seed)
        with_teacher, duplicates_only = _reference_keep(batch), _reference_keep(batch, use_teacher=False)
        seen["teacher_drop"] += sum(
            a != b for row_a, row_b in zip(with_teacher, duplicates_only) for a, b in zip(row_a, row_b)
        )
        seen["duplicate_drop"] += sum(not k for row in duplicates_only for k in row)
        sources = [batch.docs[rows[0]] for rows in batch.lists]
        seen["shared_source"] += len(sources) - len(set(sources))
        seen["source_not_top"] += sum(scores[0] < max(scores) for scores in batch.teacher)
        seen["padding"] += sum(len(rows) < WIDTH for rows in batch.lists)
        seen["float32"] += batch.dtype == torch.float32
        seen["one_query"] += len(batch.lists) == 1
        # The de-noising moves the contrastive loss far beyond the tolerance of the comparisons: always at
        # temperature 1, where every denominator entry weighs in, and in some batches at the method's 0.01
        # (elsewhere the dropped near-positives' logits are too far below the positive's to matter).
        if with_teacher != duplicates_only:
            effect = _reference_infonce(batch, duplicates_only, 1.0) - _reference_infonce(batch, with_teacher, 1.0)
            assert effect > 1e-3
        effect = _reference_infonce(batch, duplicates_only) - _reference_infonce(batch, with_teacher)
        seen["teacher_drop_matters_at_0.01"] += effect > 1e-4
    assert all(count > 0 for count in seen.values()), seen


# ---------------------------------------------------------------- module against the reference


@pytest.mark.parametrize("seed", SEEDS)
def test_combined_loss_matches_reference(seed):
    batch = _random_batch(seed)
    query_emb, passage_emb, candidate_index, teacher, ids = _tensors(batch)
    listwise = _reference_listwise(batch)
    contrastive = _reference_infonce(batch, _reference_keep(batch))

    terms = combined_loss(query_emb, passage_emb, candidate_index, teacher, ids)
    assert terms.total.dtype == torch.float64
    assert abs(terms.listwise.item() - listwise) <= TOLERANCE
    assert abs(terms.contrastive.item() - contrastive) <= TOLERANCE
    assert abs(terms.total.item() - (listwise + CONTRASTIVE_WEIGHT * contrastive)) <= TOLERANCE

    warm = combined_loss(query_emb, passage_emb, candidate_index, teacher, ids, contrastive_temperature=1.0)
    assert abs(warm.contrastive.item() - _reference_infonce(batch, _reference_keep(batch), 1.0)) <= TOLERANCE

    baseline = combined_loss(query_emb, passage_emb, candidate_index, teacher, ids, mode="infonce")
    assert baseline.listwise is None
    assert abs(baseline.total.item() - contrastive) <= TOLERANCE

    no_teacher = combined_loss(query_emb, passage_emb, candidate_index, None, ids, mode="infonce")
    expected = _reference_infonce(batch, _reference_keep(batch, use_teacher=False))
    assert abs(no_teacher.total.item() - expected) <= TOLERANCE


@pytest.mark.parametrize("seed", SEEDS)
def test_listwise_kl_matches_reference(seed):
    batch = _random_batch(seed)
    student = torch.full((len(batch.lists), WIDTH), float("nan"), dtype=torch.float64)
    teacher = torch.full((len(batch.lists), WIDTH), float("nan"), dtype=torch.float64)
    for q, (rows, scores) in enumerate(zip(batch.lists, batch.teacher)):
        student[q, : len(rows)] = torch.tensor(
            [_cosine(batch.queries[q], batch.passages[row]) for row in rows], dtype=torch.float64
        )
        teacher[q, : len(rows)] = torch.tensor(scores, dtype=torch.float64)
    mask = ~student.isnan()

    loss = listwise_kl(student, teacher, mask=mask)
    assert abs(loss.item() - _reference_listwise(batch)) <= TOLERANCE


@pytest.mark.parametrize("seed", SEEDS)
def test_contrastive_infonce_matches_reference(seed):
    batch = _random_batch(seed)
    query_emb, passage_emb, candidate_index, _, ids = _tensors(batch)
    positives = candidate_index[:, 0]
    full = _full_teacher(batch)

    loss = contrastive_infonce(query_emb, passage_emb, positives, ids, full)
    assert abs(loss.item() - _reference_infonce(batch, _reference_keep(batch))) <= TOLERANCE

    duplicates_only = _reference_infonce(batch, _reference_keep(batch, use_teacher=False))
    for unmasked in (
        contrastive_infonce(query_emb, passage_emb, positives, ids),
        contrastive_infonce(query_emb, passage_emb, positives, ids, full, denoise_ratio=None),
    ):
        assert abs(unmasked.item() - duplicates_only) <= TOLERANCE


# ---------------------------------------------------------------- gradients


def _small_batch(seed):
    """Three queries with 4, 3 and 2 candidates (padded to 4), dimension 4: small enough for a full numerical
    Jacobian, with a shared source, a positive reused as a negative and near-positives."""
    rng = np.random.default_rng(seed)
    docs = ["A", "B", "C", "D", "A", "E", "F", "B"]
    # A (rows 0, 4) is the source of q0 and q1 and a negative of q2; B (rows 1, 7) is q2's source and a
    # near-positive of q0; F (0.7 > 0.6 * 0.9) is a near-positive of q1.
    lists = [[0, 1, 2, 3], [4, 5, 6], [7, 0]]
    teacher = [[1.0, 0.8, 0.3, 0.1], [0.9, 0.2, 0.7], [0.6, 0.1]]
    # Coordinates around +-1 keep every norm far from zero, where the cosine normalisation clamps.
    queries = rng.normal(size=(3, 4)) + np.sign(rng.normal(size=(3, 4)))
    passages = rng.normal(size=(len(docs), 4)) + np.sign(rng.normal(size=(len(docs), 4)))
    return ReferenceBatch(queries, passages, lists, teacher, docs, pad_teacher=float("nan"))


def test_combined_loss_gradient_matches_finite_differences_of_the_reference():
    """The module's gradient against central differences of the reference loss (not of the module)."""
    batch = _small_batch(seed=7)
    query_emb, passage_emb, candidate_index, teacher, ids = _tensors(batch, width=4)
    query_emb.requires_grad_()
    passage_emb.requires_grad_()
    combined_loss(query_emb, passage_emb, candidate_index, teacher, ids).total.backward()

    step = 1e-6
    for array, grad in ((batch.queries, query_emb.grad), (batch.passages, passage_emb.grad)):
        numeric = np.zeros_like(array)
        for position in np.ndindex(array.shape):
            original = array[position]
            array[position] = original + step
            above = _reference_total(batch)
            array[position] = original - step
            below = _reference_total(batch)
            array[position] = original
            numeric[position] = (above - below) / (2 * step)
        # gradcheck's default tolerances (atol 1e-5, rtol 1e-3) for a step of 1e-6.
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-3, atol=1e-5)
        assert np.abs(numeric).max() > 1e-2


# gradcheck runs with its defaults (eps 1e-6, atol 1e-5, rtol 1e-3) in float64: even at the InfoNCE
# temperature 0.01 the central-difference error on these inputs is about 1e-8, far below atol.


@pytest.mark.parametrize("mode", ["combined", "infonce"])
def test_combined_loss_gradcheck(mode):
    query_emb, passage_emb, candidate_index, teacher, ids = _tensors(_small_batch(seed=1), width=4)

    def loss(queries, passages):
        """The scalar total as a function of the embeddings only."""
        return combined_loss(queries, passages, candidate_index, teacher, ids, mode=mode).total

    assert torch.autograd.gradcheck(loss, (query_emb.requires_grad_(), passage_emb.requires_grad_()))


def test_listwise_kl_gradcheck_with_padding():
    rng = np.random.default_rng(2)
    student = torch.tensor(rng.uniform(-1, 1, size=(3, 4)), requires_grad=True)
    teacher = torch.tensor(rng.uniform(0, 1, size=(3, 4)))
    mask = torch.tensor([[True, True, True, True], [True, True, True, False], [True, False, False, False]])
    assert torch.autograd.gradcheck(lambda scores: listwise_kl(scores, teacher, mask=mask), (student,))
    # And with non-default temperatures, where the softmaxes are flatter.
    assert torch.autograd.gradcheck(lambda scores: listwise_kl(scores, teacher, 0.2, 1.0, mask=mask), (student,))


def test_contrastive_infonce_gradcheck():
    batch = _small_batch(seed=3)
    query_emb, passage_emb, candidate_index, _, ids = _tensors(batch, width=4)
    positives, full = candidate_index[:, 0], _full_teacher(batch)

    def loss(queries, passages):
        """The de-noised InfoNCE as a function of the embeddings only."""
        return contrastive_infonce(queries, passages, positives, ids, full)

    assert torch.autograd.gradcheck(loss, (query_emb.requires_grad_(), passage_emb.requires_grad_()))


# ---------------------------------------------------------------- hand-built masks (beyond test_losses.py)

KEEP, DROP = True, False
HAND_BUILT = {
    # A is q0's positive and a low-scored negative of q1 (0.3 <= 0.6 * 0.8): q1 keeps both occurrences of A,
    # q0 drops q1's A as a duplicate of its positive.
    "positive_is_a_low_negative_elsewhere": (
        [[("A", 1.0), ("B", 0.2)], [("C", 0.8), ("A", 0.3)]],
        [[KEEP, KEEP, KEEP, DROP], [KEEP, KEEP, KEEP, KEEP]],
    ),
    # Two queries generated from the same source passage A: each drops the other's copy and keeps its own.
    # The sources score at most 0.6 x the top here, so only the duplicate rule can drop the copies.
    "two_queries_share_a_source": (
        [[("A", 0.5), ("B", 1.0)], [("A", 0.4), ("C", 0.9)]],
        [[KEEP, DROP, DROP, KEEP], [DROP, KEEP, KEEP, DROP]],
    ),
    # A low-scored copy of the positive inside its own list is a duplicate too (source again below the cut).
    "duplicate_of_the_positive_in_its_own_list": (
        [[("A", 0.6), ("B", 1.0), ("C", 0.3), ("A", 0.05)]],
        [[KEEP, DROP, KEEP, DROP]],
    ),
    # The threshold is 0.6 x q's top score (1.0, B), not x the positive's (0.5): C (0.45) stays.
    "threshold_from_the_top_score_not_the_positive": (
        [[("A", 0.5), ("B", 1.0), ("C", 0.45), ("D", 0.61)]],
        [[KEEP, DROP, KEEP, DROP]],
    ),
    # Strict ">" at a top below 1: exactly 0.6 * 0.7 stays, the next float up is dropped.
    "strict_boundary_at_a_top_below_one": (
        [[("A", 0.7), ("B", 0.6 * 0.7), ("C", float(np.nextafter(0.6 * 0.7, 1.0)))]],
        [[KEEP, KEEP, DROP]],
    ),
    # All scores 0 (possible after clipping): 0 > 0.6 * 0 is false, nothing is dropped.
    "all_zero_scores": (
        [[("A", 0.0), ("B", 0.0)], [("C", 1.0), ("B", 0.5)]],
        [[KEEP, KEEP, KEEP, KEEP], [KEEP, KEEP, KEEP, KEEP]],
    ),
}


def _hand_built_batch(rows, seed=0):
    """A :class:`ReferenceBatch` from per-query ``(doc, teacher score)`` lists, with random embeddings."""
    rng = np.random.default_rng(seed)
    docs = [doc for row in rows for doc, _ in row]
    lists, start = [], 0
    for row in rows:
        lists.append(list(range(start, start + len(row))))
        start += len(row)
    return ReferenceBatch(
        queries=rng.normal(size=(len(rows), DIM)),
        passages=rng.normal(size=(len(docs), DIM)),
        lists=lists,
        teacher=[[score for _, score in row] for row in rows],
        docs=docs,
        pad_teacher=float("nan"),
    )


@pytest.mark.parametrize(("rows", "expected"), list(HAND_BUILT.values()), ids=list(HAND_BUILT))
def test_hand_built_masks(rows, expected):
    batch = _hand_built_batch(rows)
    query_emb, passage_emb, candidate_index, teacher, ids = _tensors(batch)
    assert _reference_keep(batch) == expected  # the reference agrees with the hand-derived mask

    full = scatter_teacher_scores(candidate_index, teacher, len(ids))
    assert denoise_mask(full, candidate_index[:, 0], ids).tolist() == expected
    assert denoise_mask(_full_teacher(batch), candidate_index[:, 0], ids).tolist() == expected

    # End to end at temperature 1, where every denominator entry weighs in.
    terms = combined_loss(query_emb, passage_emb, candidate_index, teacher, ids, contrastive_temperature=1.0)
    assert abs(terms.contrastive.item() - _reference_infonce(batch, expected, temperature=1.0)) <= TOLERANCE


@pytest.mark.parametrize("pad_teacher", [0.0, float("nan"), 100.0, -100.0])
def test_padded_teacher_values_never_reach_the_loss(pad_teacher):
    """Whatever sits at a padded position cannot become a query's top score or a candidate of its KL."""
    batch = _hand_built_batch([[("A", 0.9), ("B", 0.6), ("C", 0.1)], [("D", 0.5), ("B", 0.2)]], seed=4)
    batch.pad_teacher = pad_teacher
    query_emb, passage_emb, candidate_index, teacher, ids = _tensors(batch)
    terms = combined_loss(query_emb, passage_emb, candidate_index, teacher, ids)
    keep = _reference_keep(batch)
    assert keep == [[KEEP, DROP, KEEP, KEEP, DROP], [KEEP, KEEP, KEEP, KEEP, KEEP]]
    assert abs(terms.contrastive.item() - _reference_infonce(batch, keep)) <= TOLERANCE
    assert abs(terms.listwise.item() - _reference_listwise(batch)) <= TOLERANCE


def test_contrastive_term_vanishes_when_every_negative_is_dropped():
    """One query whose other candidates are all near-positives or copies of the positive: only the positive
    is left in the denominator, so ``L_con`` is exactly 0 and passes no gradient, while ``L_list`` does."""
    batch = _hand_built_batch([[("A", 1.0), ("B", 0.9), ("C", 0.61), ("A", 0.2)]], seed=5)
    query_emb, passage_emb, candidate_index, teacher, ids = _tensors(batch)
    query_emb.requires_grad_()
    passage_emb.requires_grad_()
    terms = combined_loss(query_emb, passage_emb, candidate_index, teacher, ids)
    assert terms.contrastive.item() == 0.0
    contrastive_grads = torch.autograd.grad(terms.contrastive, (query_emb, passage_emb), retain_graph=True)
    assert all((grad == 0).all() for grad in contrastive_grads)
    listwise_grads = torch.autograd.grad(terms.listwise, (query_emb, passage_emb))
    assert all(grad.abs().max() > 0 for grad in listwise_grads)
