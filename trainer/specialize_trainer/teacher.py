"""Teacher scoring (method step 5): score every (query, candidate) pair, then normalise per file.

The ``teacher/score`` request reads two files from its run directory:

- ``teacher_input.jsonl``: one query a line, ``{"qid": str, "query": str, "type": str, "candidates": [ids]}``;
- ``passages.jsonl``: one passage a line, ``{"id": str | int, "text": str}`` (title already folded into text).

and writes ``teacher_scores.jsonl``: ``{"qid", "candidates", "raw", "scores"}`` a line, in input order, with
``scores`` the raw scores mapped to ``[0, 1]`` by :func:`~specialize_trainer.teacher_norm.normalize_teacher_scores`
over every score of the query's type (the "file" of the method: dataset and retriever are fixed in one run).
An ensemble's lines also carry ``members``: each member's raw scores, one list per candidate.

Scorers are pluggable (:class:`Scorer`): a cross-encoder (:class:`CrossEncoderScorer`), a bi-encoder
(:class:`BiEncoderScorer`) and an ensemble of those (:class:`EnsembleScorer`). Pairs are batched by length
(similar lengths pad little) and run under bf16 autocast on CUDA.

The work is resumable: queries are scored in shards of ``shard_size`` and each shard's raw scores are written
atomically to ``teacher/shard-00000.jsonl`` and so on. A rerun skips the shards that are complete; a
``teacher/manifest.json`` records the scorer and a fingerprint of the inputs, so a different scorer or input
starts over instead of mixing scores.

Params of ``teacher/score``::

    {"run_dir": "/path/run", "scorer": {"kind": "cross-encoder", "model": "cross-encoder/ms-marco-MiniLM-L6-v2"},
     "batch_size": 64, "shard_size": 1024, "device": "auto"}

An ensemble: ``{"kind": "ensemble", "members": [{"kind": "cross-encoder", "model": ...},
{"kind": "bi-encoder", "model": ..., "query_prompt": "query: "}, {"kind": "lexical"}], "weights": [2, 1, 1]}``.
A ``lexical`` member takes BM25 scores from the input (``"lexical"``: one per candidate, written by the caller
from its whole-corpus index), so the teacher can lean on exact terms where dense models miss them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.protocol import InvalidParams, Problem
from specialize_trainer.teacher_norm import normalize_teacher_scores

if TYPE_CHECKING:
    from specialize_trainer.rpc.server import CancelToken, RequestContext, Server

logger = logging.getLogger(__name__)

INPUT_FILE = "teacher_input.jsonl"
PASSAGES_FILE = "passages.jsonl"
OUTPUT_FILE = "teacher_scores.jsonl"
SHARD_DIR = "teacher"
MANIFEST_FILE = "manifest.json"
# Bump when the shard format changes: old shards are then recomputed.
SHARD_FORMAT = 1
SCORER_KINDS = ("cross-encoder", "bi-encoder", "lexical", "ensemble")
DEVICES = ("auto", "cpu", "cuda")

Pair = tuple[str, str]
ProgressCallback = Callable[[int, int, float], None]


# ---------------------------------------------------------------------------------------------------
# Scorers


class Scorer(Protocol):
    """Scores (query, passage) pairs.

    ``score`` returns raw scores of shape ``(n,)``, or ``(n, members)`` for an ensemble, whose members are
    combined per file by :meth:`EnsembleScorer.combine` once every score of the file is known. ``given`` holds
    per-pair scores that the input carries (BM25 from the index, see :class:`LexicalScorer`); scorers that
    compute their own ignore it.
    """

    def score(self, pairs: Sequence[Pair], given: np.ndarray | None = None) -> np.ndarray: ...


def _autocast(device: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (the reranker's logits keep their order at bf16 precision); nothing elsewhere."""
    import torch

    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class CrossEncoderScorer:
    """A sentence-transformers ``CrossEncoder`` (any HF sequence-classification model with one label).

    Scores are the model's logits (no sigmoid): a sigmoid squeezes confident scores together near 0 and 1,
    and the per-file normalisation maps any monotone scale to ``[0, 1]`` anyway.

    Args:
        model: a local folder or a Hugging Face model id.
        device: ``cpu`` or ``cuda``.
        query_prompt: text prepended to every query (some rerankers expect an instruction).
    """

    def __init__(self, model: str, device: str = "cpu", query_prompt: str = "") -> None:
        from sentence_transformers import CrossEncoder

        self.device = device
        self.query_prompt = query_prompt
        self.model = CrossEncoder(model, device=device)

    def score(self, pairs: Sequence[Pair], given: np.ndarray | None = None) -> np.ndarray:
        import torch

        inputs = [(self.query_prompt + query, passage) for query, passage in pairs]
        with torch.inference_mode(), _autocast(self.device):
            scores = self.model.predict(
                inputs,
                batch_size=max(1, len(inputs)),
                activation_fn=torch.nn.Identity(),
                convert_to_numpy=False,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        # Through a float32 tensor: NumPy has no bf16.
        return scores.float().cpu().numpy().reshape(len(inputs))


# Query and passage embeddings kept between calls, each cache up to 100k texts (~1.5 KB each at 384
# dimensions, ~150 MB; twice that at 768).
_EMBEDDING_CACHE_LIMIT = 100_000


class BiEncoderScorer:
    """A sentence-transformers bi-encoder: the score is the cosine of query and passage embeddings.

    Args:
        model: a local folder or a Hugging Face model id.
        device: ``cpu`` or ``cuda``.
        query_prompt: text prepended to queries; ``None`` takes the model's own ``query`` prompt.
    """

    def __init__(self, model: str, device: str = "cpu", query_prompt: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self.device = device
        self.model = SentenceTransformer(model, device=device)
        prompts = self.model.prompts or {}
        self.query_prompt = prompts.get("query", "") if query_prompt is None else query_prompt
        self.passage_prompt = prompts.get("document", prompts.get("passage", prompts.get("corpus", "")))
        self._query_cache: dict[str, np.ndarray] = {}
        self._passage_cache: dict[str, np.ndarray] = {}

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        import torch

        with torch.inference_mode(), _autocast(self.device):
            embeddings = self.model.encode(
                texts,
                prompt=prompt or None,
                batch_size=max(1, len(texts)),
                convert_to_numpy=False,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return embeddings.float().cpu().numpy()

    def score(self, pairs: Sequence[Pair], given: np.ndarray | None = None) -> np.ndarray:
        # A query has many candidates and a passage is a candidate of many queries, and length-sorted batches
        # scatter both over many calls: embed each distinct text once and remember it (bounded).
        left = self._embed_cached([query for query, _ in pairs], self.query_prompt, self._query_cache)
        right = self._embed_cached([passage for _, passage in pairs], self.passage_prompt, self._passage_cache)
        return np.einsum("ij,ij->i", left, right)

    def _embed_cached(self, texts: list[str], prompt: str, cache: dict[str, np.ndarray]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in cache]
        if missing:
            if len(cache) + len(missing) > _EMBEDDING_CACHE_LIMIT:
                cache.clear()
            for text, embedding in zip(missing, self._encode(missing, prompt)):
                cache[text] = embedding
        return np.stack([cache[text] for text in texts])


class OnnxBiEncoderScorer(BiEncoderScorer):
    """A bi-encoder from a model folder that has only ONNX weights (see :mod:`specialize_trainer.onnx_bi_encoder`)."""

    def __init__(self, model: str, device: str = "cpu", query_prompt: str | None = None) -> None:
        from specialize_trainer.onnx_bi_encoder import OnnxEncoder

        self.device = device
        self.encoder = OnnxEncoder(model, device)
        self.query_prompt = self.encoder.query_prompt if query_prompt is None else query_prompt
        self.passage_prompt = self.encoder.passage_prompt
        self._query_cache = {}
        self._passage_cache = {}

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        return self.encoder.encode(texts, prompt)


class LexicalScorer:
    """BM25 scores that the caller computed with the whole index's statistics and wrote beside each candidate.

    Why not BM25 here: the scores must come from the same index and analysis (Lucene's English analyzer)
    as the search engine's BM25, over the whole corpus; this process only sees the candidates' passages, whose
    term statistics are a topical sample. ``teacher_input.jsonl`` lines then carry ``lexical``: one score per
    candidate.
    """

    def score(self, pairs: Sequence[Pair], given: np.ndarray | None = None) -> np.ndarray:
        if given is None:
            raise Problem(
                "The lexical teacher member needs BM25 scores in teacher_input.jsonl ('lexical', one per candidate)",
                "Write the teacher input with Specialize's tune command, which adds them when the teacher has a "
                "lexical member.",
            )
        return np.asarray(given, dtype=np.float64)


class EnsembleScorer:
    """Several scorers whose per-file normalised scores are averaged with weights.

    Each member is normalised per file *before* averaging: raw scales differ wildly (reranker logits spread
    over ±10, bi-encoder cosines over a few hundredths), so a mean of raw scores would follow the member with
    the widest scale and the weights would not mean what they say. After the P1/P99 rule every member spans
    ``[0, 1]`` relative to its own distribution over the file, and the weights set each member's share.

    Args:
        members: the member scorers.
        weights: one non-negative weight per member (not all zero); equal weights when ``None``.
    """

    def __init__(self, members: Sequence[Scorer], weights: Sequence[float] | None = None) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        values = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=np.float64)
        if values.shape != (len(members),) or (values < 0).any() or values.sum() <= 0:
            raise ValueError(f"need {len(members)} non-negative weights, not all zero; got {weights}")
        self.members = list(members)
        self.weights = values / values.sum()

    def score(self, pairs: Sequence[Pair], given: np.ndarray | None = None) -> np.ndarray:
        columns = [np.asarray(member.score(pairs, given), dtype=np.float64) for member in self.members]
        return np.stack(columns, axis=1)

    @property
    def needs_lexical(self) -> bool:
        return any(isinstance(member, LexicalScorer) for member in self.members)

    def combine(self, raw: np.ndarray) -> np.ndarray:
        """Weighted mean of the members' normalised scores; ``raw`` is ``(n, members)``, all of one file."""
        normalised = np.stack([normalize_teacher_scores(raw[:, j]) for j in range(raw.shape[1])], axis=1)
        return normalised @ self.weights


# ---------------------------------------------------------------------------------------------------
# Scorer specs


def validate_scorer_spec(spec: Any, nested: bool = False) -> dict[str, Any]:
    """Check a ``scorer`` param and return it in canonical form (what the manifest records).

    Raises:
        InvalidParams: on an unknown kind, a missing model, bad members or weights.
    """
    if not isinstance(spec, dict):
        raise InvalidParams(f"scorer must be an object, got {spec!r}")
    kind = spec.get("kind")
    if kind not in SCORER_KINDS or (nested and kind == "ensemble"):
        allowed = [k for k in SCORER_KINDS if k != "ensemble"] if nested else list(SCORER_KINDS)
        raise InvalidParams(f"scorer kind must be one of {allowed}, got {kind!r}")
    if kind == "ensemble":
        members = spec.get("members")
        if not isinstance(members, list) or not members:
            raise InvalidParams("an ensemble scorer needs a non-empty list of members")
        canonical: dict[str, Any] = {"kind": kind, "members": [validate_scorer_spec(m, nested=True) for m in members]}
        weights = spec.get("weights")
        if weights is not None:
            valid = isinstance(weights, list) and len(weights) == len(members)
            valid = valid and all(_is_number(w) and w >= 0 for w in weights) and sum(weights) > 0
            if not valid:
                raise InvalidParams(f"weights must be {len(members)} non-negative numbers, not all zero")
            canonical["weights"] = [float(w) for w in weights]
        return canonical
    if kind == "lexical":
        return {"kind": kind}
    model = spec.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidParams(f"a {kind} scorer needs a model (a folder or a model id)")
    canonical = {"kind": kind, "model": model}
    query_prompt = spec.get("query_prompt")
    if query_prompt is not None:
        if not isinstance(query_prompt, str):
            raise InvalidParams("query_prompt must be a string")
        canonical["query_prompt"] = query_prompt
    return canonical


def load_scorer(spec: dict[str, Any], device: str) -> Scorer:
    """Build the scorer a (validated) spec describes.

    Raises:
        Problem: if a model cannot be loaded.
    """
    if spec["kind"] == "ensemble":
        return EnsembleScorer([load_scorer(member, device) for member in spec["members"]], spec.get("weights"))
    if spec["kind"] == "lexical":
        return LexicalScorer()
    try:
        if spec["kind"] == "cross-encoder":
            return CrossEncoderScorer(spec["model"], device, spec.get("query_prompt", ""))
        from specialize_trainer.onnx_bi_encoder import is_onnx_only

        if is_onnx_only(spec["model"]):
            return OnnxBiEncoderScorer(spec["model"], device, spec.get("query_prompt"))
        return BiEncoderScorer(spec["model"], device, spec.get("query_prompt"))
    except Exception as error:
        raise Problem(
            f"Could not load the {spec['kind']} teacher {spec['model']!r}: {type(error).__name__}: {error}",
            "Check that the model is a sentence-transformers or Hugging Face model folder (or an id already in "
            f"the local cache) of a {spec['kind']}, and that its files are complete.",
        ) from error


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when available, else ``cpu``.

    Raises:
        Problem: if ``cuda`` is asked for and there is none.
    """
    import torch

    available = bool(torch.cuda.is_available())
    if device == "auto":
        return "cuda" if available else "cpu"
    if device == "cuda" and not available:
        raise Problem("device is 'cuda' but this machine has no usable CUDA GPU", "Use device 'auto' or 'cpu'.")
    return device


# ---------------------------------------------------------------------------------------------------
# Length batching


def length_sorted_batches(pairs: Sequence[Pair], batch_size: int) -> list[np.ndarray]:
    """Split pair indices into batches of similar length, longest first.

    Similar lengths in one batch waste little padding; longest first makes an out-of-memory error show up
    at once rather than at the end. Lengths are characters of query and passage together.

    Returns:
        Index arrays into ``pairs``; together they hold every index once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    lengths = np.array([len(query) + len(passage) for query, passage in pairs], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def score_in_length_batches(
    scorer: Scorer,
    pairs: Sequence[Pair],
    batch_size: int,
    token: CancelToken | None = None,
    on_batch: Callable[[int], None] | None = None,
    given: np.ndarray | None = None,
) -> np.ndarray:
    """Score ``pairs`` in length-sorted batches and return the scores in the order of ``pairs``.

    Args:
        scorer: the scorer.
        pairs: (query, passage) pairs.
        given: per-pair lexical scores from the input, for a lexical scorer or ensemble member.
        batch_size: pairs per scorer call.
        token: checked before every batch.
        on_batch: called with the number of pairs of each finished batch.
    """
    result: np.ndarray | None = None
    for indices in length_sorted_batches(pairs, batch_size):
        if token is not None:
            token.raise_if_cancelled()
        batch = [pairs[i] for i in indices]
        scores = np.asarray(scorer.score(batch, None if given is None else given[indices]), dtype=np.float64)
        if result is None:
            result = np.empty((len(pairs), *scores.shape[1:]), dtype=np.float64)
        result[indices] = scores
        if on_batch is not None:
            on_batch(len(indices))
    return result if result is not None else np.empty(0, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------
# Input files


@dataclass(frozen=True)
class TeacherQuery:
    qid: str
    query: str
    type: str
    candidates: list[Any]
    # BM25 scores of the candidates, for a lexical teacher member; None when the input has none.
    lexical: list[float] | None = None


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line.

    Raises:
        Problem: if the file is missing, empty, or a line is not a JSON object.
    """
    fix = f"Recreate {path.name} (one JSON object a line) by running the pipeline's earlier steps again."
    if not path.is_file():
        raise Problem(f"{path} does not exist", fix)
    count = 0
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise Problem(f"{path}, line {number}: not valid JSON ({error})", fix) from error
            if not isinstance(record, dict):
                raise Problem(f"{path}, line {number}: expected a JSON object", fix)
            count += 1
            yield number, record
    if count == 0:
        raise Problem(f"{path} is empty", fix)


def _is_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_passages(path: Path) -> dict[Any, str]:
    """Read ``passages.jsonl`` into ``{id: text}``.

    Raises:
        Problem: on a malformed line or a duplicate id (the file and line are named).
    """
    passages: dict[Any, str] = {}
    fix = f"Each line of {path.name} needs a unique string id and a string text."
    for number, record in _read_jsonl(path):
        passage_id, text = record.get("id"), record.get("text")
        if not _is_id(passage_id) or not isinstance(text, str):
            raise Problem(f"{path}, line {number}: needs an 'id' (string) and a 'text' (string)", fix)
        if passage_id in passages:
            raise Problem(f"{path}, line {number}: duplicate passage id {passage_id!r}", fix)
        passages[passage_id] = text
    return passages


def read_teacher_input(path: Path, passages: dict[Any, str]) -> list[TeacherQuery]:
    """Read ``teacher_input.jsonl``, checking every candidate against ``passages``.

    Raises:
        Problem: on a malformed line, a duplicate qid, no candidates or an unknown candidate id.
    """
    queries: list[TeacherQuery] = []
    seen: set[str] = set()
    fix = f"Each line of {path.name} needs qid, query, type (strings) and candidates (passage ids)."
    for number, record in _read_jsonl(path):
        qid, query, kind, candidates = (record.get(k) for k in ("qid", "query", "type", "candidates"))
        if not all(isinstance(v, str) for v in (qid, query, kind)) or not isinstance(candidates, list):
            raise Problem(f"{path}, line {number}: needs 'qid', 'query', 'type' (strings) and 'candidates'", fix)
        if qid in seen:
            raise Problem(f"{path}, line {number}: duplicate qid {qid!r}", fix)
        if not candidates or not all(_is_id(c) for c in candidates):
            raise Problem(f"{path}, line {number}: 'candidates' must be a non-empty list of passage ids", fix)
        missing = [c for c in candidates if c not in passages]
        if missing:
            raise Problem(
                f"{path}, line {number}: query {qid!r} has candidate {missing[0]!r}, which is not in {PASSAGES_FILE}"
                + (f" ({len(missing)} missing ids)" if len(missing) > 1 else ""),
                f"Write every candidate passage to {PASSAGES_FILE}, or recreate both files from the same corpus.",
            )
        lexical = record.get("lexical")
        if lexical is not None and (
            not isinstance(lexical, list) or len(lexical) != len(candidates) or not all(_is_number(v) for v in lexical)
        ):
            raise Problem(f"{path}, line {number}: 'lexical' must hold one finite score per candidate", fix)
        seen.add(qid)
        queries.append(TeacherQuery(qid, query, kind, list(candidates), lexical))
    return queries


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------
# Atomic files and shards


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # make the rename durable; not every platform opens folders
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _jsonl(records: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def shard_path(shard_dir: Path, index: int) -> Path:
    return shard_dir / f"shard-{index:05d}.jsonl"


def read_complete_shard(path: Path, queries: Sequence[TeacherQuery]) -> list[list[Any]] | None:
    """The raw scores of a finished shard, or ``None`` if it is missing or does not match ``queries``.

    A shard matches when it holds exactly these qids in order, with the same candidates and one finite raw
    score (or one per ensemble member) per candidate.
    """
    if not path.is_file():
        return None
    try:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError):
        return None
    if len(lines) != len(queries):
        return None
    raw: list[list[Any]] = []
    for line, query in zip(lines, queries):
        if not isinstance(line, dict) or line.get("qid") != query.qid or line.get("candidates") != query.candidates:
            return None
        values = line.get("raw")
        if not isinstance(values, list) or len(values) != len(query.candidates):
            return None
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
        if not all(_is_number(v) for v in flat):
            return None
        raw.append(values)
    return raw


def prepare_shard_dir(shard_dir: Path, manifest: dict[str, Any], output: Path) -> None:
    """Keep existing shards only if they were made by the same scorer from the same input."""
    shard_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = shard_dir / MANIFEST_FILE
    try:
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    if previous == manifest:
        return
    stale = sorted(shard_dir.glob("shard-*.jsonl"))
    if stale:
        logger.info(
            "Teacher scorer, settings or input changed since the last run: starting over (%d old shards removed)",
            len(stale),
        )
    for path in stale:
        path.unlink()
    with contextlib.suppress(FileNotFoundError):
        output.unlink()
    write_atomic(manifest_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------------------
# The run


def normalize_per_file(queries: Sequence[TeacherQuery], raw: Sequence[np.ndarray], scorer: Scorer) -> list[dict]:
    """Output records: raw scores (an ensemble's combined score), and scores normalised per query type."""
    combined: list[np.ndarray] = list(raw)
    scores: list[np.ndarray] = [np.empty(0)] * len(queries)
    for kind in dict.fromkeys(query.type for query in queries):
        members = [i for i, query in enumerate(queries) if query.type == kind]
        values = np.concatenate([raw[i] for i in members])
        if isinstance(scorer, EnsembleScorer):
            values = scorer.combine(values)
        normalised = normalize_teacher_scores(values)
        bounds = np.cumsum([0] + [len(queries[i].candidates) for i in members])
        for j, i in enumerate(members):
            combined[i] = values[bounds[j] : bounds[j + 1]]
            scores[i] = normalised[bounds[j] : bounds[j + 1]]
    records = []
    for i, query in enumerate(queries):
        record: dict[str, Any] = {"qid": query.qid, "candidates": query.candidates, "raw": combined[i].tolist()}
        if isinstance(scorer, EnsembleScorer):
            record["members"] = raw[i].tolist()
        record["scores"] = scores[i].tolist()
        records.append(record)
    return records


def score_run(
    run_dir: str | Path,
    scorer_spec: dict[str, Any],
    *,
    batch_size: int = 64,
    shard_size: int = 1024,
    device: str = "cpu",
    token: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    scorer_loader: Callable[[dict[str, Any], str], Scorer] = load_scorer,
) -> dict[str, Any]:
    """Score a run directory's teacher input, resuming from finished shards; see the module docstring.

    Args:
        run_dir: folder with ``teacher_input.jsonl`` and ``passages.jsonl``.
        scorer_spec: validated scorer spec (:func:`validate_scorer_spec`).
        batch_size: pairs per scorer call.
        shard_size: queries per shard.
        device: ``cpu`` or ``cuda`` (already resolved).
        token: cancellation, checked before every batch; finished shards stay on disk.
        progress: called after every batch with ``(pairs done, pairs in all, pairs per second)``.
        scorer_loader: builds the scorer from the spec; loaded only when a shard needs scoring.

    Returns:
        ``{"queries", "pairs", "seconds", "pairs_per_second", "output", "resumed_shards"}``;
        ``pairs_per_second`` counts the pairs scored by this call.
    """
    start = time.monotonic()
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise Problem(f"run_dir {run_dir} does not exist", "Pass the run directory the pipeline created.")
    input_path, passages_path = run_dir / INPUT_FILE, run_dir / PASSAGES_FILE
    passages = read_passages(passages_path)
    queries = read_teacher_input(input_path, passages)
    total_pairs = sum(len(query.candidates) for query in queries)
    output = run_dir / OUTPUT_FILE
    shard_dir = run_dir / SHARD_DIR
    manifest = {
        "format": SHARD_FORMAT,
        "scorer": scorer_spec,
        "shard_size": shard_size,
        "input_sha256": {INPUT_FILE: file_sha256(input_path), PASSAGES_FILE: file_sha256(passages_path)},
    }
    prepare_shard_dir(shard_dir, manifest, output)

    scorer: Scorer | None = None
    raw: list[np.ndarray] = []
    done = scored = resumed = 0
    for index, first in enumerate(range(0, len(queries), shard_size)):
        shard = queries[first : first + shard_size]
        path = shard_path(shard_dir, index)
        previous = read_complete_shard(path, shard)
        if previous is not None:
            raw.extend(np.asarray(values, dtype=np.float64) for values in previous)
            resumed += 1
            done += sum(len(query.candidates) for query in shard)
            if progress is not None:
                progress(done, total_pairs, 0.0)
            continue
        if scorer is None:
            scorer = scorer_loader(scorer_spec, device)
        pairs = [(query.query, passages[c]) for query in shard for c in query.candidates]
        given = _given_lexical(shard) if _needs_lexical(scorer) else None

        def on_batch(count: int) -> None:
            nonlocal done, scored
            done, scored = done + count, scored + count
            if progress is not None:
                progress(done, total_pairs, scored / max(time.monotonic() - start, 1e-9))

        scores = score_in_length_batches(scorer, pairs, batch_size, token, on_batch, given)
        if not np.isfinite(scores).all():
            raise Problem(
                f"The teacher gave non-finite scores in shard {index}",
                "Run on another device or precision (device 'cpu'), or use another teacher model.",
            )
        bounds = np.cumsum([0] + [len(query.candidates) for query in shard])
        per_query = [scores[bounds[j] : bounds[j + 1]] for j in range(len(shard))]
        records = [{"qid": q.qid, "candidates": q.candidates, "raw": s.tolist()} for q, s in zip(shard, per_query)]
        write_atomic(path, _jsonl(records))
        raw.extend(per_query)
    if scorer is None:
        # Everything resumed: the ensemble's weights are needed to combine, not its models.
        scorer = _combiner(scorer_spec)
    write_atomic(output, _jsonl(normalize_per_file(queries, raw, scorer)))
    seconds = time.monotonic() - start
    return {
        "queries": len(queries),
        "pairs": total_pairs,
        "seconds": seconds,
        "pairs_per_second": scored / seconds if seconds > 0 else 0.0,
        "output": str(output),
        "resumed_shards": resumed,
    }


def _needs_lexical(scorer: Scorer) -> bool:
    return isinstance(scorer, LexicalScorer) or (isinstance(scorer, EnsembleScorer) and scorer.needs_lexical)


def _given_lexical(shard: Sequence[TeacherQuery]) -> np.ndarray:
    """The shard's BM25 scores, flat in pair order.

    Raises:
        Problem: if a query has none.
    """
    missing = next((query.qid for query in shard if query.lexical is None), None)
    if missing is not None:
        raise Problem(
            f"The teacher has a lexical member but query {missing!r} in {INPUT_FILE} has no 'lexical' scores",
            "Write the teacher input with Specialize's tune command, or drop the lexical member.",
        )
    return np.asarray([value for query in shard for value in query.lexical or []], dtype=np.float64)


class _NoScorer:
    def score(self, pairs: Sequence[Pair], given: np.ndarray | None = None) -> np.ndarray:
        raise RuntimeError("every shard was resumed; nothing left to score")


def _combiner(spec: dict[str, Any]) -> Scorer:
    """A stand-in that combines resumed scores like the spec's scorer without loading any model."""
    if spec["kind"] == "ensemble":
        return EnsembleScorer([_NoScorer() for _ in spec["members"]], spec.get("weights"))
    return _NoScorer()


# ---------------------------------------------------------------------------------------------------
# The request


def _int_param(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, default)
    if not _is_number(value) or not float(value).is_integer() or not low <= value <= high:
        raise InvalidParams(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def teacher_score(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """The ``teacher/score`` handler: validates params, scores with progress and cancellation."""
    run_dir = params.get("run_dir")
    if not isinstance(run_dir, str) or not run_dir:
        raise InvalidParams("run_dir must be a path")
    spec = validate_scorer_spec(params.get("scorer"))
    batch_size = _int_param(params, "batch_size", 64, 1, 65_536)
    shard_size = _int_param(params, "shard_size", 1024, 1, 10_000_000)
    device = params.get("device", "auto")
    if device not in DEVICES:
        raise InvalidParams(f"device must be one of {list(DEVICES)}, got {device!r}")

    def progress(done: int, total: int, rate: float) -> None:
        eta = (total - done) / rate if rate > 0 else None
        ctx.progress("teacher", done, total, throughput=rate, throughput_unit="pairs", eta_seconds=eta)

    return score_run(
        run_dir,
        spec,
        batch_size=batch_size,
        shard_size=shard_size,
        device=resolve_device(device),
        token=ctx.token,
        progress=progress,
    )


def register_teacher(server: Server) -> None:
    """Register the real ``teacher/score`` handler (replacing the not-implemented stub)."""
    server.register(protocol.TEACHER_SCORE, teacher_score)
