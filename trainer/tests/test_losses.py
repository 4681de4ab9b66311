import math

import numpy as np
import pytest
import torch
from torch import nn

from specialize_trainer.losses import (
    LossTerms,
    candidate_cosines,
    combined_loss,
    contrastive_infonce,
    denoise_mask,
    grad_cache_backward,
    listwise_kl,
    listwise_kl_from_embeddings,
    scatter_teacher_scores,
)

# ---------------------------------------------------------------- independent reference computations


def _softmax(values, temperature):
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def _kl_by_hand(student_rows, teacher_rows, student_temperature=0.05, teacher_temperature=0.3):
    """mean over rows of sum_i P_t,i * log(P_t,i / P_s,i), with explicit loops."""
    total = 0.0
    for student, teacher in zip(student_rows, teacher_rows):
        p_t, p_s = _softmax(teacher, teacher_temperature), _softmax(student, student_temperature)
        total += sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s))
    return total / len(student_rows)


def _cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _infonce_by_hand(queries, passages, positives, keep, temperature=0.01):
    """mean over q of -log(exp(s_pos / T) / sum_{j kept} exp(s_j / T)), with explicit loops."""
    total = 0.0
    for q, query in enumerate(queries):
        logits = [_cosine(query, passage) / temperature for passage in passages]
        denominator = sum(math.exp(logit) for j, logit in enumerate(logits) if keep[q][j])
        total += -math.log(math.exp(logits[positives[q]]) / denominator)
    return total / len(queries)


STUDENT = [[0.9, 0.5, 0.1], [0.2, 0.8, 0.3]]
TEACHER = [[1.0, 0.4, 0.0], [0.1, 1.0, 0.7]]

# ---------------------------------------------------------------- listwise KL


def test_listwise_kl_matches_hand_computation_in_float64():
    loss = listwise_kl(torch.tensor(STUDENT, dtype=torch.float32), torch.tensor(TEACHER, dtype=torch.float32))
    assert loss.dtype == torch.float64
    expected = _kl_by_hand(np.float32(STUDENT).tolist(), np.float32(TEACHER).tolist())
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_listwise_kl_is_zero_when_distributions_match():
    teacher = torch.tensor(TEACHER, dtype=torch.float64)
    # s / 0.05 = t / 0.3 + constant  =>  P_s == P_t
    student = (teacher * (0.05 / 0.3) + 0.2).requires_grad_()
    loss = listwise_kl(student, teacher)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-12)
    assert student.grad.abs().max().item() < 1e-12


@pytest.mark.parametrize(("student_temperature", "teacher_temperature"), [(0.05, 0.5), (0.1, 0.3), (0.02, 1.0)])
def test_listwise_kl_temperatures_matter(student_temperature, teacher_temperature):
    student, teacher = torch.tensor(STUDENT, dtype=torch.float64), torch.tensor(TEACHER, dtype=torch.float64)
    default = listwise_kl(student, teacher).item()
    changed = listwise_kl(student, teacher, student_temperature, teacher_temperature).item()
    assert changed != pytest.approx(default, rel=1e-3)
    assert changed == pytest.approx(_kl_by_hand(STUDENT, TEACHER, student_temperature, teacher_temperature), rel=1e-12)


def test_listwise_kl_has_no_temperature_squared_factor():
    student, teacher = torch.tensor(STUDENT, dtype=torch.float64), torch.tensor(TEACHER, dtype=torch.float64)
    assert listwise_kl(student, teacher).item() == pytest.approx(_kl_by_hand(STUDENT, TEACHER), rel=1e-12)
    assert listwise_kl(student, teacher).item() != pytest.approx(_kl_by_hand(STUDENT, TEACHER) * 0.3**2, rel=1e-3)


def test_listwise_kl_ignores_padded_candidates():
    student = torch.tensor([[0.9, 0.5, 0.1, 7.0], [0.2, 0.8, -3.0, 5.0]], dtype=torch.float64, requires_grad=True)
    teacher = torch.tensor([[1.0, 0.4, 0.0, float("nan")], [0.1, 1.0, float("nan"), 9.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    loss = listwise_kl(student, teacher, mask=mask)
    expected = _kl_by_hand([[0.9, 0.5, 0.1], [0.2, 0.8]], [[1.0, 0.4, 0.0], [0.1, 1.0]])
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert torch.isfinite(student.grad).all()
    assert (student.grad[~mask] == 0).all()


def test_listwise_kl_rejects_queries_without_candidates():
    with pytest.raises(ValueError, match="at least one real candidate"):
        listwise_kl(torch.zeros(2, 3), torch.zeros(2, 3), mask=torch.tensor([[True, False, False], [False] * 3]))


def test_listwise_kl_from_embeddings_uses_cosines_of_own_candidates():
    rng = np.random.default_rng(1)
    queries, passages = rng.normal(size=(2, 5)), rng.normal(size=(6, 5))
    index = [[0, 2, 4], [5, 1, -1]]
    teacher = [[1.0, 0.3, 0.6], [0.9, 0.2, 0.0]]
    cosines = [[_cosine(queries[q], passages[j]) for j in row if j >= 0] for q, row in enumerate(index)]
    expected = _kl_by_hand(cosines, [teacher[0], teacher[1][:2]])
    loss = listwise_kl_from_embeddings(
        torch.tensor(queries), torch.tensor(passages), torch.tensor(index), torch.tensor(teacher, dtype=torch.float64)
    )
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    scores = candidate_cosines(torch.tensor(queries), torch.tensor(passages), torch.tensor(index))
    np.testing.assert_allclose(scores[0].numpy(), cosines[0], rtol=1e-12)
    assert scores[1, 2].item() == 0.0


# ---------------------------------------------------------------- contrastive InfoNCE

# Two queries with three candidates each, flat passages: q0 -> cols 0-2 (A, B, C), q1 -> cols 3-5 (D, B, A).
IDS = ["A", "B", "C", "D", "B", "A"]
CANDIDATES = [[0, 1, 2], [3, 4, 5]]
POSITIVES = [0, 3]
# q0: top 1.0 -> threshold 0.6: B (0.7) is dropped everywhere, C (exactly 0.6) stays; col 5 duplicates A.
# q1: top 0.9 -> threshold 0.54: A (0.55) is dropped everywhere (cols 0 and 5), B (0.5) stays.
CANDIDATE_TEACHER = [[1.0, 0.7, 0.6], [0.9, 0.5, 0.55]]
EXPECTED_KEEP = [
    [True, False, True, True, False, False],
    [False, True, True, True, True, False],
]


def _embeddings(seed=2, num_queries=2, num_passages=6, dim=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(num_queries, dim)) * 0.3, rng.normal(size=(num_passages, dim)) * 2


def test_scatter_teacher_scores_places_known_scores_and_nan_elsewhere():
    full = scatter_teacher_scores(
        torch.tensor([[2, 0, -1], [1, 3, 2]]), torch.tensor([[0.5, 1.0, 0.7], [0.1, 0.2, 0.3]], dtype=torch.float64), 4
    )
    nan = float("nan")
    expected = torch.tensor([[1.0, nan, 0.5, nan], [nan, 0.1, 0.3, 0.2]], dtype=torch.float64)
    torch.testing.assert_close(full, expected, equal_nan=True)


@pytest.mark.parametrize("ids", [IDS, torch.tensor([ord(i) for i in IDS])])
def test_denoise_mask_drops_exactly_the_right_entries(ids):
    full = scatter_teacher_scores(
        torch.tensor(CANDIDATES), torch.tensor(CANDIDATE_TEACHER, dtype=torch.float64), len(IDS)
    )
    keep = denoise_mask(full, torch.tensor(POSITIVES), ids)
    assert keep.tolist() == EXPECTED_KEEP


def test_denoise_mask_without_teacher_drops_only_duplicates_of_the_positive():
    assert denoise_mask(None, torch.tensor(POSITIVES), IDS).tolist() == [
        [True, True, True, True, True, False],
        [True, True, True, True, True, True],
    ]
    full = scatter_teacher_scores(
        torch.tensor(CANDIDATES), torch.tensor(CANDIDATE_TEACHER, dtype=torch.float64), len(IDS)
    )
    assert denoise_mask(full, torch.tensor(POSITIVES), IDS, denoise_ratio=None).tolist() == [
        [True, True, True, True, True, False],
        [True, True, True, True, True, True],
    ]


def test_denoise_mask_treats_nan_and_minus_inf_as_unknown():
    full = torch.tensor([[1.0, float("nan"), -torch.inf, 0.9]], dtype=torch.float64)
    assert denoise_mask(full, torch.tensor([0]), ["p", "x", "y", "z"]).tolist() == [[True, True, True, False]]


def test_infonce_matches_hand_computation_with_denoising():
    queries, passages = _embeddings()
    full = scatter_teacher_scores(
        torch.tensor(CANDIDATES), torch.tensor(CANDIDATE_TEACHER, dtype=torch.float64), len(IDS)
    )
    args = (torch.tensor(queries), torch.tensor(passages), torch.tensor(POSITIVES), IDS, full)
    loss = contrastive_infonce(*args)
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(_infonce_by_hand(queries, passages, POSITIVES, EXPECTED_KEEP), rel=1e-10)
    # At temperature 1 every denominator entry weighs in, so a wrong mask cannot hide.
    warm = contrastive_infonce(*args, temperature=1.0).item()
    assert warm == pytest.approx(_infonce_by_hand(queries, passages, POSITIVES, EXPECTED_KEEP, 1.0), rel=1e-10)
    for other in ([[True] * 6, [True] * 6], [[True] * 5 + [False], [True] * 6]):
        assert warm != pytest.approx(_infonce_by_hand(queries, passages, POSITIVES, other, 1.0), rel=1e-3)


def test_infonce_temperature_matters():
    queries, passages = _embeddings(seed=3)
    args = (torch.tensor(queries, dtype=torch.float32), torch.tensor(passages, dtype=torch.float32))
    keep = [[True, True, True, True, True, False], [True] * 6]
    for temperature in (0.01, 0.05):
        loss = contrastive_infonce(*args, torch.tensor(POSITIVES), IDS, temperature=temperature)
        expected = _infonce_by_hand(np.float32(queries), np.float32(passages), POSITIVES, keep, temperature)
        assert loss.dtype == torch.float64
        assert loss.item() == pytest.approx(expected, rel=1e-7)


# ---------------------------------------------------------------- combined loss


def _combined_inputs(seed=4):
    queries, passages = _embeddings(seed)
    return (
        torch.tensor(queries),
        torch.tensor(passages),
        torch.tensor(CANDIDATES),
        torch.tensor(CANDIDATE_TEACHER, dtype=torch.float64),
    )


def test_combined_loss_is_listwise_plus_a_tenth_of_contrastive():
    queries, passages, candidates, teacher = _combined_inputs()
    terms = combined_loss(queries, passages, candidates, teacher, IDS)
    cosines = [[_cosine(queries[q].numpy(), passages[j].numpy()) for j in row] for q, row in enumerate(CANDIDATES)]
    listwise = _kl_by_hand(cosines, CANDIDATE_TEACHER)
    contrastive = _infonce_by_hand(queries.numpy(), passages.numpy(), POSITIVES, EXPECTED_KEEP)
    assert terms.listwise.item() == pytest.approx(listwise, rel=1e-10)
    assert terms.contrastive.item() == pytest.approx(contrastive, rel=1e-10)
    assert terms.total.item() == pytest.approx(listwise + 0.1 * contrastive, rel=1e-10)
    weighted = combined_loss(queries, passages, candidates, teacher, IDS, listwise_weight=0.5, contrastive_weight=2.0)
    assert weighted.total.item() == pytest.approx(0.5 * listwise + 2.0 * contrastive, rel=1e-10)


def test_infonce_only_mode_is_the_denoised_contrastive_loss_alone():
    queries, passages, candidates, teacher = _combined_inputs()
    terms = combined_loss(queries, passages, candidates, teacher, IDS, mode="infonce")
    assert terms.listwise is None
    expected = _infonce_by_hand(queries.numpy(), passages.numpy(), POSITIVES, EXPECTED_KEEP)
    assert terms.total.item() == pytest.approx(expected, rel=1e-10)
    no_teacher = combined_loss(queries, passages, candidates, None, IDS, mode="infonce")
    keep = [[True, True, True, True, True, False], [True] * 6]
    assert no_teacher.total.item() == pytest.approx(
        _infonce_by_hand(queries.numpy(), passages.numpy(), POSITIVES, keep), rel=1e-10
    )


def test_combined_loss_rejects_unknown_mode_and_missing_teacher():
    queries, passages, candidates, _ = _combined_inputs()
    with pytest.raises(ValueError, match="unknown loss mode"):
        combined_loss(queries, passages, candidates, None, IDS, mode="marginmse")
    with pytest.raises(ValueError, match="teacher scores"):
        combined_loss(queries, passages, candidates, None, IDS)


# ---------------------------------------------------------------- GradCache


class _BagEncoder(nn.Module):
    """Tiny two-tower encoder over fixed-length token-id lists (float64)."""

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        torch.manual_seed(0)
        self.bag = nn.EmbeddingBag(40, 8, mode="mean", dtype=torch.float64)
        self.query_head = nn.Linear(8, 8, dtype=torch.float64)
        self.passage_head = nn.Linear(8, 8, dtype=torch.float64)
        self.dropout = nn.Dropout(dropout)

    def encode_query(self, tokens):
        return self.query_head(self.dropout(self.bag(torch.tensor(list(tokens)))))

    def encode_passage(self, tokens):
        return self.passage_head(self.dropout(self.bag(torch.tensor(list(tokens)))))


def _grad_cache_batch(num_queries=6, num_candidates=4, pool=10):
    rng = np.random.default_rng(5)
    pool_tokens = rng.integers(0, 40, size=(pool, 5)).tolist()
    queries = rng.integers(0, 40, size=(num_queries, 3)).tolist()
    doc_ids = rng.integers(0, pool, size=num_queries * num_candidates).tolist()
    passages = [pool_tokens[d] for d in doc_ids]
    candidates = torch.arange(num_queries * num_candidates).view(num_queries, num_candidates)
    teacher = torch.tensor(rng.uniform(size=(num_queries, num_candidates)))
    teacher[:, 0] = 1.0
    return queries, passages, doc_ids, candidates, teacher


def _grads(model):
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("mode", ["combined", "infonce"])
def test_grad_cache_equals_full_batch_backward(mode):
    queries, passages, doc_ids, candidates, teacher = _grad_cache_batch()
    assert len(set(doc_ids)) < len(doc_ids)  # duplicates across lists, as in real batches

    def loss_fn(query_emb, passage_emb):
        return combined_loss(query_emb, passage_emb, candidates, teacher, doc_ids, mode=mode)

    model = _BagEncoder()
    direct = loss_fn(model.encode_query(queries), model.encode_passage(passages))
    direct.total.backward()
    expected = _grads(model)

    model.zero_grad()
    cached = grad_cache_backward(
        queries, passages, model.encode_query, loss_fn, model.encode_passage, query_chunk_size=4, passage_chunk_size=5
    )
    assert isinstance(cached, LossTerms) and not cached.total.requires_grad
    assert cached.total.item() == pytest.approx(direct.total.item(), rel=1e-12)
    for got, want in zip(_grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    assert any(g.abs().sum() > 0 for g in expected)


def test_grad_cache_chunked_by_length_gives_the_same_loss_and_gradient():
    queries, passages, doc_ids, candidates, teacher = _grad_cache_batch()

    def loss_fn(query_emb, passage_emb):
        return combined_loss(query_emb, passage_emb, candidates, teacher, doc_ids)

    model = _BagEncoder()
    loss_fn(model.encode_query(queries), model.encode_passage(passages)).total.backward()
    expected = _grads(model)

    seen = []

    def encode_passage(chunk):
        seen.append([tokens[0] for tokens in chunk])
        return model.encode_passage(chunk)

    model.zero_grad()
    # Any key will do; the first token id stands in for a text's length.
    cached = grad_cache_backward(
        queries, passages, model.encode_query, loss_fn, encode_passage, 4, 5, length=lambda tokens: tokens[0]
    )
    keys = [key for chunk in seen[: len(seen) // 2] for key in chunk]
    assert keys == sorted(keys) and keys != [tokens[0] for tokens in passages]  # really reordered
    assert seen[: len(seen) // 2] == seen[len(seen) // 2 :]  # the grad pass re-encodes the same chunks
    direct = loss_fn(model.encode_query(queries), model.encode_passage(passages))
    assert cached.total.item() == pytest.approx(direct.total.item(), rel=1e-12)
    for got, want in zip(_grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_grad_cache_replays_dropout_masks():
    queries, passages, doc_ids, candidates, teacher = _grad_cache_batch()
    model = _BagEncoder(dropout=0.5).train()

    def loss_fn(query_emb, passage_emb):
        return combined_loss(query_emb, passage_emb, candidates, teacher, doc_ids).total

    # Reference: the same chunks, encoded once with grad, in the same order and from the same seed.
    torch.manual_seed(11)
    query_emb = torch.cat([model.encode_query(queries[i : i + 4]) for i in range(0, 6, 4)])
    passage_emb = torch.cat([model.encode_passage(passages[i : i + 5]) for i in range(0, 24, 5)])
    loss_fn(query_emb, passage_emb).backward()
    expected = _grads(model)

    model.zero_grad()
    torch.manual_seed(11)
    loss = grad_cache_backward(queries, passages, model.encode_query, loss_fn, model.encode_passage, 4, 5)
    assert isinstance(loss, torch.Tensor)
    for got, want in zip(_grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
