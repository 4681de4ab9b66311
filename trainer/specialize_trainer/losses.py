"""Listwise distillation and de-noised InfoNCE (method step 6), and a GradCache step (method step 7).

Batch layout used throughout:

- ``query_emb``: ``[Q, D]`` query embeddings.
- ``passage_emb``: ``[P, D]`` passage embeddings; in the method's layout every query contributes its own
  candidate list, so ``P = Q * C`` and a passage retrieved for several queries appears several times (each
  occurrence is a separate negative in the contrastive denominator, as in the method).
- ``candidate_index``: ``[Q, C]`` long tensor, row ``q`` the indices into ``passage_emb`` of ``q``'s
  candidates sorted by teacher score, source passage first; ``-1`` marks padding (short lists).
- ``teacher_scores``: ``[Q, C]`` normalised teacher scores ``t`` in ``[0, 1]`` aligned with
  ``candidate_index`` (values at padded positions are ignored).
- ``passage_ids``: ``P`` document ids (any hashable, or an integer tensor) used to find duplicates.

All similarities are cosines (``q`` and ``p`` L2-normalised) and all losses are computed in float64,
whatever dtype the encoder produced (e.g. under bf16 autocast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

COMBINED = "combined"
INFONCE = "infonce"


@dataclass(frozen=True)
class Gather:
    """How one rank's share of a batch joins the whole batch in data-parallel GradCache.

    ``queries`` and ``passages`` map this rank's ``[n, D]`` embeddings to the whole batch's (every rank's
    shares in rank order); this rank's rows start at ``query_offset`` / ``passage_offset`` in them. ``dim``
    is the embedding width, for a rank whose share is empty.
    """

    queries: Callable[[Tensor], Tensor]
    passages: Callable[[Tensor], Tensor]
    query_offset: int
    passage_offset: int
    dim: int


@dataclass(frozen=True)
class LossTerms:
    """The total training loss and its parts.

    Args:
        total: the scalar that is back-propagated.
        listwise: ``L_list`` (``None`` when not computed).
        contrastive: ``L_con`` (``None`` when not computed).
    """

    total: Tensor
    listwise: Tensor | None = None
    contrastive: Tensor | None = None

    def detach(self) -> LossTerms:
        """Return the same terms cut from the autograd graph."""
        return LossTerms(
            *(None if term is None else term.detach() for term in (self.total, self.listwise, self.contrastive))
        )


def cosine_scores(query_emb: Tensor, passage_emb: Tensor) -> Tensor:
    """Cosine similarity of every query with every passage, in float64.

    Both sides are L2-normalised here, so already-normalised embeddings (models ending in a Normalize
    module) pass through unchanged and unnormalised ones still give cosines.

    Args:
        query_emb: ``[Q, D]``.
        passage_emb: ``[P, D]``.

    Returns:
        ``[Q, P]`` float64 cosines.
    """
    queries = F.normalize(query_emb.to(torch.float64), dim=-1)
    passages = F.normalize(passage_emb.to(torch.float64), dim=-1)
    return queries @ passages.T


def candidate_cosines(query_emb: Tensor, passage_emb: Tensor, candidate_index: Tensor) -> Tensor:
    """Cosine of each query with each of its own candidates, ``s_i = cos(q, p_i)``.

    Args:
        query_emb: ``[Q, D]``.
        passage_emb: ``[P, D]``.
        candidate_index: ``[Q, C]`` indices into ``passage_emb``; ``-1`` (padding) gives a score of 0.

    Returns:
        ``[Q, C]`` float64 cosines.
    """
    queries = F.normalize(query_emb.to(torch.float64), dim=-1)
    passages = F.normalize(passage_emb.to(torch.float64), dim=-1)
    gathered = passages[candidate_index.clamp(min=0)]
    scores = torch.einsum("qd,qcd->qc", queries, gathered)
    return scores.masked_fill(candidate_index < 0, 0.0)


def listwise_kl(
    student_scores: Tensor,
    teacher_scores: Tensor,
    student_temperature: float = 0.05,
    teacher_temperature: float = 0.3,
    mask: Tensor | None = None,
) -> Tensor:
    """Listwise distillation loss ``KL(P_t || P_s)``, batch mean, in float64.

    Per query ``q`` over its own candidates ``i``: ``P_t = softmax(t / teacher_temperature)``,
    ``P_s = softmax(s / student_temperature)`` and ``KL = sum_i P_t,i * (log P_t,i - log P_s,i)``;
    the result is the mean over queries. There is no ``T^2`` factor.

    Args:
        student_scores: ``[Q, C]`` student scores ``s`` (cosines).
        teacher_scores: ``[Q, C]`` normalised teacher scores ``t``.
        student_temperature: temperature of the student softmax.
        teacher_temperature: temperature of the teacher softmax.
        mask: optional ``[Q, C]`` boolean, ``True`` for real candidates and ``False`` for padding; padded
            candidates are left out of both softmaxes (their values, even NaN, are ignored).

    Returns:
        Scalar float64 loss.

    Raises:
        ValueError: on shape mismatch, non-positive temperatures, a query without any real candidate, or a
            non-finite teacher score at a real candidate.
    """
    if student_scores.shape != teacher_scores.shape or student_scores.dim() != 2:
        raise ValueError(
            f"expected two [Q, C] tensors, got {tuple(student_scores.shape)} and {tuple(teacher_scores.shape)}"
        )
    _check_temperature(student_temperature, teacher_temperature)
    if mask is None:
        mask = torch.ones_like(student_scores, dtype=torch.bool)
    mask = mask.to(device=student_scores.device, dtype=torch.bool)
    if not mask.any(dim=1).all():
        raise ValueError("every query needs at least one real candidate")
    teacher = teacher_scores.to(device=student_scores.device, dtype=torch.float64)
    if not torch.isfinite(teacher[mask]).all():
        raise ValueError("teacher scores must be finite at real candidates")
    student = student_scores.to(torch.float64)
    # Padded entries get log-probability 0 instead of -inf so that no NaN appears, not even in backward.
    log_p_teacher = torch.where(mask, _masked_log_softmax(teacher / teacher_temperature, mask), 0.0)
    log_p_student = torch.where(mask, _masked_log_softmax(student / student_temperature, mask), 0.0)
    pointwise = torch.where(mask, log_p_teacher.exp() * (log_p_teacher - log_p_student), 0.0)
    return pointwise.sum(dim=1).mean()


def listwise_kl_from_embeddings(
    query_emb: Tensor,
    passage_emb: Tensor,
    candidate_index: Tensor,
    teacher_scores: Tensor,
    student_temperature: float = 0.05,
    teacher_temperature: float = 0.3,
) -> Tensor:
    """:func:`listwise_kl` with ``s_i = cos(q, p_i)`` computed from embeddings; ``-1`` indices are padding.

    Args:
        query_emb: ``[Q, D]``.
        passage_emb: ``[P, D]``.
        candidate_index: ``[Q, C]`` indices into ``passage_emb``, ``-1`` for padding.
        teacher_scores: ``[Q, C]`` normalised teacher scores.
        student_temperature: temperature of the student softmax.
        teacher_temperature: temperature of the teacher softmax.

    Returns:
        Scalar float64 loss.
    """
    student = candidate_cosines(query_emb, passage_emb, candidate_index)
    return listwise_kl(student, teacher_scores, student_temperature, teacher_temperature, mask=candidate_index >= 0)


def scatter_teacher_scores(candidate_index: Tensor, teacher_scores: Tensor, num_passages: int) -> Tensor:
    """Spread per-candidate teacher scores into a ``[Q, P]`` matrix, NaN where a score is unknown.

    Args:
        candidate_index: ``[Q, C]`` indices into the passages, ``-1`` for padding.
        teacher_scores: ``[Q, C]`` teacher scores aligned with ``candidate_index``.
        num_passages: ``P``.

    Returns:
        ``[Q, P]`` float64 matrix: ``full[q, candidate_index[q, c]] = teacher_scores[q, c]``.
    """
    num_queries = candidate_index.shape[0]
    full = torch.full(
        (num_queries, num_passages + 1), float("nan"), dtype=torch.float64, device=candidate_index.device
    )
    # Padding (-1) is routed to a spare last column that is dropped afterwards.
    columns = torch.where(candidate_index < 0, num_passages, candidate_index)
    full.scatter_(1, columns, teacher_scores.to(device=full.device, dtype=torch.float64))
    return full[:, :num_passages]


def denoise_mask(
    teacher_scores_full: Tensor | None,
    positive_index: Tensor,
    passage_ids: Sequence[Any] | Tensor,
    denoise_ratio: float | None = 0.6,
) -> Tensor:
    """Which passages stay in each query's contrastive denominator.

    For query ``q`` with positive ``pos = positive_index[q]``, column ``j`` is dropped when ``j != pos`` and

    - ``j`` has the same document id as ``pos`` (a duplicate of the positive), or
    - some occurrence ``j'`` of ``j``'s document id has a known teacher score for ``q`` with
      ``teacher_scores_full[q, j'] > denoise_ratio * top[q]``, where ``top[q]`` is the largest known
      teacher score of ``q`` (a likely false negative; every occurrence of that document is dropped, also
      those that came in through other queries' lists, where ``q``'s score is unknown).

    The positive itself always stays. Scores are expected normalised to ``[0, 1]`` (the rule assumes a
    non-negative top score) and in float64: a float32 copy rounds e.g. 0.6 up to 0.6000000238, which flips
    the strict ``>`` at the boundary. NaN or infinite entries mean "unknown" and never trigger a drop.

    Args:
        teacher_scores_full: ``[Q, P]`` teacher score of each passage for each query, or ``None``.
        positive_index: ``[Q]`` index of each query's positive in the passages.
        passage_ids: ``P`` document ids.
        denoise_ratio: the ``0.6`` of the rule; ``None`` keeps every high-scored passage (duplicates of the
            positive are still dropped).

    Returns:
        ``[Q, P]`` boolean tensor, ``True`` where the passage stays in the denominator.
    """
    device = positive_index.device
    doc = _document_codes(passage_ids, device)
    num_queries = positive_index.shape[0]
    drop = doc[None, :] == doc[positive_index][:, None]
    if teacher_scores_full is not None and denoise_ratio is not None:
        scores = teacher_scores_full.to(device=device, dtype=torch.float64)
        known = torch.isfinite(scores)
        top = torch.where(known, scores, -torch.inf).max(dim=1, keepdim=True).values
        high = known & (scores > denoise_ratio * top)
        # hits[q, d]: how many occurrences of document d are scored high for q.
        hits = torch.zeros(num_queries, int(doc.max()) + 1, dtype=torch.float32, device=device)
        hits.index_add_(1, doc, high.to(torch.float32))
        drop |= hits[:, doc] > 0
    drop[torch.arange(num_queries, device=device), positive_index] = False
    return ~drop


def contrastive_infonce(
    query_emb: Tensor,
    passage_emb: Tensor,
    positive_index: Tensor,
    passage_ids: Sequence[Any] | Tensor,
    teacher_scores_full: Tensor | None = None,
    temperature: float = 0.01,
    denoise_ratio: float | None = 0.6,
) -> Tensor:
    """De-noised InfoNCE over the whole batch, in float64.

    ``L_con = mean_q [ -s(q, pos) / T + log sum_{j kept} exp(s(q, p_j) / T) ]`` with ``s`` the cosine,
    the positive always among the kept passages and the kept set given by :func:`denoise_mask`: every
    passage of the batch (all queries' positives and hard negatives) except duplicates of ``q``'s positive
    and passages the teacher scores above ``denoise_ratio`` times ``q``'s top score.

    Args:
        query_emb: ``[Q, D]``.
        passage_emb: ``[P, D]``.
        positive_index: ``[Q]`` long tensor, index of each query's source passage in ``passage_emb``.
        passage_ids: ``P`` document ids (list or tensor).
        teacher_scores_full: optional ``[Q, P]`` teacher score of each passage for each query, NaN/-inf
            where unknown (see :func:`scatter_teacher_scores`).
        temperature: InfoNCE temperature.
        denoise_ratio: false-negative threshold; ``None`` disables teacher de-noising.

    Returns:
        Scalar float64 loss.
    """
    _check_temperature(temperature)
    positive_index = positive_index.to(device=query_emb.device, dtype=torch.long)
    if len(passage_ids) != passage_emb.shape[0]:
        raise ValueError(f"{len(passage_ids)} passage ids for {passage_emb.shape[0]} passages")
    logits = cosine_scores(query_emb, passage_emb) / temperature
    keep = denoise_mask(teacher_scores_full, positive_index, passage_ids, denoise_ratio)
    positives = logits.gather(1, positive_index[:, None]).squeeze(1)
    return (torch.logsumexp(logits.masked_fill(~keep, -torch.inf), dim=1) - positives).mean()


def combined_loss(
    query_emb: Tensor,
    passage_emb: Tensor,
    candidate_index: Tensor,
    teacher_scores: Tensor | None,
    passage_ids: Sequence[Any] | Tensor,
    positive_index: Tensor | None = None,
    mode: str = COMBINED,
    listwise_weight: float = 1.0,
    contrastive_weight: float = 0.1,
    student_temperature: float = 0.05,
    teacher_temperature: float = 0.3,
    contrastive_temperature: float = 0.01,
    denoise_ratio: float | None = 0.6,
) -> LossTerms:
    """The training loss: ``L = L_list + 0.1 * L_con`` (``combined``) or ``L = L_con`` (``infonce`` baseline).

    The InfoNCE baseline still uses the teacher scores, when given, to de-noise its denominator. A zero
    weight skips computing that term.

    Args:
        query_emb: ``[Q, D]``.
        passage_emb: ``[P, D]``.
        candidate_index: ``[Q, C]`` indices into ``passage_emb``, source first, ``-1`` for padding.
        teacher_scores: ``[Q, C]`` normalised teacher scores; required in ``combined`` mode.
        passage_ids: ``P`` document ids.
        positive_index: ``[Q]`` positives; defaults to ``candidate_index[:, 0]`` (source first).
        mode: ``"combined"`` or ``"infonce"``.
        listwise_weight: weight of ``L_list`` (combined mode).
        contrastive_weight: weight of ``L_con`` (combined mode; the baseline uses 1).
        student_temperature: listwise student temperature.
        teacher_temperature: listwise teacher temperature.
        contrastive_temperature: InfoNCE temperature.
        denoise_ratio: InfoNCE false-negative threshold, ``None`` to disable.

    Returns:
        :class:`LossTerms` with float64 scalars.
    """
    if mode not in (COMBINED, INFONCE):
        raise ValueError(f"unknown loss mode {mode!r}; expected {COMBINED!r} or {INFONCE!r}")
    if mode == INFONCE:
        listwise_weight, contrastive_weight = 0.0, 1.0
    elif teacher_scores is None:
        raise ValueError("the combined loss needs teacher scores")
    candidate_index = candidate_index.to(device=query_emb.device, dtype=torch.long)
    if positive_index is None:
        positive_index = candidate_index[:, 0]
    listwise = contrastive = None
    total = query_emb.new_zeros((), dtype=torch.float64)
    if listwise_weight:
        listwise = listwise_kl_from_embeddings(
            query_emb, passage_emb, candidate_index, teacher_scores, student_temperature, teacher_temperature
        )
        total = total + listwise_weight * listwise
    if contrastive_weight:
        full = None
        if teacher_scores is not None:
            full = scatter_teacher_scores(candidate_index, teacher_scores, passage_emb.shape[0])
        contrastive = contrastive_infonce(
            query_emb, passage_emb, positive_index, passage_ids, full, contrastive_temperature, denoise_ratio
        )
        total = total + contrastive_weight * contrastive
    return LossTerms(total, listwise, contrastive)


def grad_cache_backward(
    queries: Sequence[Any],
    passages: Sequence[Any],
    encode_query: Callable[[Sequence[Any]], Tensor],
    loss_fn: Callable[[Tensor, Tensor], Tensor | LossTerms],
    encode_passage: Callable[[Sequence[Any]], Tensor] | None = None,
    query_chunk_size: int = 16,
    passage_chunk_size: int = 320,
    gather: Gather | None = None,
    length: Callable[[Any], int] | None = None,
) -> Tensor | LossTerms:
    """Back-propagate a whole-batch loss through an encoder in micro-batches (GradCache).

    1. Encode every query and passage chunk without grad and cache the embeddings.
    2. Compute ``loss_fn(query_emb, passage_emb)`` on the cached embeddings and its gradient with respect
       to them; the loss therefore sees the whole batch (the contrastive denominator spans it).
    3. Re-encode each chunk with grad and call ``torch.autograd.backward(embeddings, grad_tensors=...)``
       with the cached gradient of that chunk; parameter ``.grad`` accumulates exactly the full-batch
       gradient.

    The two encodings of a chunk must be identical. The method trains with dropout 0, so they are; for
    other stochastic layers the CPU (and, if initialised, CUDA) RNG state is recorded before each chunk's
    first pass and restored before its second, so dropout masks repeat. Keep the model in the same mode
    (train/eval, autocast) for the whole call. Gradients are *added* to ``.grad``: zero them before, clip
    and step after.

    Args:
        queries: query inputs, sliced into chunks (texts or anything ``encode_query`` takes).
        passages: passage inputs, sliced into chunks.
        encode_query: maps a chunk of queries to ``[n, D]`` embeddings with grad, e.g.
            ``lambda texts: model(model.tokenize(texts))["sentence_embedding"]``.
        loss_fn: maps ``(query_emb [Q, D], passage_emb [P, D])`` to a scalar or :class:`LossTerms`.
        encode_passage: passage encoder; defaults to ``encode_query``.
        query_chunk_size: queries per micro-batch.
        passage_chunk_size: passages per micro-batch (16 queries x 20 candidates by default).
        gather: in data-parallel training, ``queries`` and ``passages`` are this rank's share; step 2 runs
            on every rank's embeddings and step 3 back-propagates this rank's rows of the gradient. The
            caller then sums parameter gradients across ranks.
        length: when given, each side's items are chunked in order of this key (e.g. ``len`` of a text), so a
            micro-batch holds items of similar length and pads less; the embeddings and gradients still follow
            the input order, and the gradient is the same.

    Returns:
        The loss (or :class:`LossTerms`) detached from the graph.
    """
    encode_passage = encode_passage or encode_query
    query_plan = _ChunkPlan(queries, query_chunk_size, length)
    passage_plan = _ChunkPlan(passages, passage_chunk_size, length)
    query_cache, query_states = _encode_without_grad(encode_query, query_plan.chunks)
    passage_cache, passage_states = _encode_without_grad(encode_passage, passage_plan.chunks)
    if gather is None:
        query_leaf = query_plan.in_input_order(torch.cat(query_cache)).requires_grad_()
        passage_leaf = passage_plan.in_input_order(torch.cat(passage_cache)).requires_grad_()
    else:
        query_leaf = gather.queries(query_plan.in_input_order(concat_rows(query_cache, gather.dim))).requires_grad_()
        passage_leaf = gather.passages(
            passage_plan.in_input_order(concat_rows(passage_cache, gather.dim))
        ).requires_grad_()
    result = loss_fn(query_leaf, passage_leaf)
    loss = result.total if isinstance(result, LossTerms) else result
    query_grad, passage_grad = torch.autograd.grad(loss, [query_leaf, passage_leaf], allow_unused=True)
    if gather is not None:
        query_grad = _own_rows(query_grad, gather.query_offset, len(queries))
        passage_grad = _own_rows(passage_grad, gather.passage_offset, len(passages))
    _backward_chunks(
        encode_query, query_plan.chunks, query_states, query_plan.in_chunk_order(query_grad), len(queries)
    )
    _backward_chunks(
        encode_passage, passage_plan.chunks, passage_states, passage_plan.in_chunk_order(passage_grad), len(passages)
    )
    return result.detach()


class _ChunkPlan:
    """Micro-batches of ``items``, in input order or (with ``length``) by length, and the way back to input order."""

    def __init__(self, items: Sequence[Any], size: int, length: Callable[[Any], int] | None) -> None:
        order = sorted(range(len(items)), key=lambda i: length(items[i])) if length is not None else []
        self.sorted = order != sorted(order)
        self.order = torch.tensor(order, dtype=torch.long)
        # Unsorted, the chunks are slices of the input itself (a tensor stays a tensor).
        self.chunks = (
            [[items[i] for i in indices] for indices in _chunks(order, size)] if self.sorted else _chunks(items, size)
        )

    def in_input_order(self, rows: Tensor) -> Tensor:
        """Rows in chunk order (the concatenated embeddings) put back in input order."""
        if not self.sorted:
            return rows
        restored = torch.empty_like(rows)
        restored[self.order.to(rows.device)] = rows
        return restored

    def in_chunk_order(self, rows: Tensor | None) -> Tensor | None:
        """Rows in input order (the gradient) arranged like the chunks."""
        if rows is None or not self.sorted:
            return rows
        return rows[self.order.to(rows.device)]


def concat_rows(parts: list[Tensor], dim: int) -> Tensor:
    """``torch.cat(parts)``, or an empty ``[0, dim]`` tensor when there are no parts (an empty share)."""
    return torch.cat(parts) if parts else torch.zeros((0, dim))


def _own_rows(grad: Tensor | None, offset: int, count: int) -> Tensor | None:
    return None if grad is None else grad[offset : offset + count]


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def _capture_rng() -> tuple[Tensor, list[Tensor] | None]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda


def _restore_rng(state: tuple[Tensor, list[Tensor] | None]) -> None:
    cpu, cuda = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


def _encode_without_grad(
    encode: Callable[[Sequence[Any]], Tensor], chunks: list[Sequence[Any]]
) -> tuple[list[Tensor], list[tuple[Tensor, list[Tensor] | None]]]:
    embeddings, states = [], []
    with torch.no_grad():
        for chunk in chunks:
            states.append(_capture_rng())
            embeddings.append(encode(chunk).detach())
    return embeddings, states


def _backward_chunks(
    encode: Callable[[Sequence[Any]], Tensor],
    chunks: list[Sequence[Any]],
    states: list[tuple[Tensor, list[Tensor] | None]],
    grad: Tensor | None,
    expected_rows: int,
) -> None:
    if grad is None:  # the loss did not use these embeddings
        return
    start = 0
    for chunk, state in zip(chunks, states):
        _restore_rng(state)
        embeddings = encode(chunk)
        stop = start + embeddings.shape[0]
        torch.autograd.backward(embeddings, grad_tensors=grad[start:stop].to(embeddings.dtype))
        start = stop
    if start != expected_rows:
        raise RuntimeError("re-encoding produced a different number of embeddings than the cached pass")


def _masked_log_softmax(logits: Tensor, mask: Tensor) -> Tensor:
    return torch.log_softmax(logits.masked_fill(~mask, -torch.inf), dim=1)


def _document_codes(passage_ids: Sequence[Any] | Tensor, device: torch.device) -> Tensor:
    """Map document ids to small integer codes (equal ids, equal codes)."""
    if isinstance(passage_ids, Tensor):
        return torch.unique(passage_ids, return_inverse=True)[1].to(device)
    codes: dict[Any, int] = {}
    return torch.tensor([codes.setdefault(doc, len(codes)) for doc in passage_ids], dtype=torch.long, device=device)


def _check_temperature(*temperatures: float) -> None:
    for temperature in temperatures:
        if not temperature > 0:
            raise ValueError(f"temperatures must be positive, got {temperature}")
