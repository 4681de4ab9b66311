"""The training loop behind ``train/run``: listwise distillation of a sentence-transformers student (method step 7).

Inputs live in ``run_dir``: ``train.jsonl`` and ``dev.jsonl`` (one object per query: ``qid``, ``query``,
``candidates`` (passage ids, source first, at most 20) and ``scores`` (normalised teacher scores aligned with
``candidates``)) and ``passages.jsonl`` (``id``, ``text``). The best model by dev loss is written as a
sentence-transformers folder to ``run_dir/<output>``.

Each optimiser step takes ``batch_size`` queries and all their candidates through
:func:`~specialize_trainer.losses.grad_cache_backward` in micro-batches of ``micro_batch`` queries, so the
contrastive denominator spans the whole batch. ``run_dir/checkpoints/last/`` is rewritten atomically every
``checkpoint_every`` steps, after every dev evaluation and when the request is cancelled; a later ``train/run``
on the same run dir resumes from it and ends where an uninterrupted run would have ended.

Example::

    server.register("train/run", train_run)   # or register_training(server)
    # params: {"run_dir": "...", "student": "/models/bge-small-en-v1.5", "batch_size": 256}
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.optim.lr_scheduler import LambdaLR

from specialize_trainer import distributed
from specialize_trainer.conventions import read_conventions
from specialize_trainer.losses import (
    COMBINED,
    INFONCE,
    Gather,
    LossTerms,
    combined_loss,
    concat_rows,
    grad_cache_backward,
)
from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.protocol import InvalidParams, Problem, RequestCancelled

logger = logging.getLogger(__name__)
_COLLECTIVE = threading.Lock()

TRAIN_FILE = "train.jsonl"
DEV_FILE = "dev.jsonl"
PASSAGES_FILE = "passages.jsonl"
CHECKPOINTS_DIR = "checkpoints"
MAX_CANDIDATES = 20
# Method step 8: queries are cut to 64 tokens and passages to 512 (or the model's own limit if lower).
QUERY_MAX_TOKENS = 64
PASSAGE_MAX_TOKENS = 512
FINAL_LR_RATIO = 0.1
MIN_WARMUP_STEPS = 10
# Written into every checkpoint; a checkpoint of another format is refused rather than misread.
CHECKPOINT_FORMAT = 1
# Fault injection for tests (a real out-of-memory cannot be produced on demand): encoding more texts than this
# in one call raises torch.OutOfMemoryError.
INJECT_OOM_ENV = "SPECIALIZE_TRAINER_INJECT_OOM_ABOVE"

# Settings that must match between a checkpoint and the run that resumes it.
_RESUME_KEYS = (
    "student",
    "mode",
    "batch_size",
    "lr",
    "weight_decay",
    "max_grad_norm",
    "epochs",
    "patience",
    "seed",
    "listwise_weight",
    "contrastive_weight",
    "student_temperature",
    "teacher_temperature",
    "contrastive_temperature",
    "denoise_ratio",
    "passage_max_tokens",
)


@dataclass(frozen=True)
class TrainConfig:
    """The parameters of ``train/run`` with the method's defaults (see :func:`parse_params`)."""

    run_dir: str
    student: str
    output: str = "student"
    # Folder inside run_dir for this training's checkpoints: two trainings on one run dir (the method and a
    # baseline) each need their own.
    checkpoints: str = CHECKPOINTS_DIR
    mode: str = COMBINED
    batch_size: int = 4096
    # None: chosen for the device (see default_micro_batch).
    micro_batch: int | None = None
    lr: float = 2e-4
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    epochs: int = 30
    patience: int = 2
    seed: int = 42
    checkpoint_every: int = 50
    max_steps: int | None = None
    device: str = "auto"
    listwise_weight: float = 1.0
    contrastive_weight: float = 0.1
    student_temperature: float = 0.05
    teacher_temperature: float = 0.3
    contrastive_temperature: float = 0.01
    denoise_ratio: float | None = 0.6
    # Method step 8: passages cut to 512 tokens (or the model's own limit if lower); a CPU budget may cut more.
    passage_max_tokens: int = PASSAGE_MAX_TOKENS


@dataclass
class Query:
    """One training or dev query: its text, candidate passage ids (source first) and teacher scores."""

    qid: str
    text: str
    candidates: list[str]
    scores: list[float]


@dataclass
class TrainState:
    """Everything besides weights and optimiser that a resumed run needs to continue exactly."""

    epoch: int = 0
    step: int = 0
    # The current epoch's shuffled query order and the index of the next batch in it.
    order: list[int] = field(default_factory=list)
    batch_index: int = 0
    # Whether the dev loss before ``epoch`` has been computed (and ``order`` drawn).
    evaluated: bool = False
    best_dev_loss: float | None = None
    best_step: int | None = None
    bad_epochs: int = 0
    dev_losses: list[float] = field(default_factory=list)


def parse_params(params: dict[str, Any]) -> TrainConfig:
    """Validate ``train/run`` params and fill in the method's defaults.

    Args:
        params: the request params.

    Returns:
        The :class:`TrainConfig`.

    Raises:
        InvalidParams: on a missing or ill-typed field.
    """
    known = set(TrainConfig.__dataclass_fields__)
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidParams(f"train/run does not take {', '.join(unknown)}")
    for name in ("run_dir", "student"):
        if not isinstance(params.get(name), str) or not params[name]:
            raise InvalidParams(f"train/run needs {name} (a path)")
    config = TrainConfig(**params)
    for name in ("output", "checkpoints"):
        value = getattr(config, name)
        if not isinstance(value, str) or not value or os.sep in value or value in (".", ".."):
            raise InvalidParams(f"{name} must be a folder name inside run_dir, got {value!r}")
    if config.mode not in (COMBINED, INFONCE):
        raise InvalidParams(f"mode must be {COMBINED!r} or {INFONCE!r}, got {config.mode!r}")
    if config.device not in ("auto", "cpu", "cuda"):
        raise InvalidParams(f"device must be 'auto', 'cpu' or 'cuda', got {config.device!r}")
    for name in ("batch_size", "epochs", "checkpoint_every", "passage_max_tokens"):
        _check_int(name, getattr(config, name), 1)
    if config.micro_batch is not None:
        _check_int("micro_batch", config.micro_batch, 1)
    _check_int("patience", config.patience, 1)
    _check_int("seed", config.seed, 0)
    if config.max_steps is not None:
        _check_int("max_steps", config.max_steps, 1)
    for name in ("lr", "student_temperature", "teacher_temperature", "contrastive_temperature"):
        _check_number(name, getattr(config, name), positive=True)
    for name in ("weight_decay", "max_grad_norm", "listwise_weight", "contrastive_weight"):
        _check_number(name, getattr(config, name), positive=False)
    if config.denoise_ratio is not None:
        _check_number("denoise_ratio", config.denoise_ratio, positive=False)
    return config


# The method's micro-batch, and the one a single process starts with on a GPU. On an H100 (MiniLM-L6, 20
# candidates of up to 256 tokens) 64 trained 2.5x faster than 16 (46 against 19 queries/s) in 33 GB; a
# smaller GPU runs out of memory on the first step and halves it until it fits (GradCache: same model).
METHOD_MICRO_BATCH = 16
GPU_MICRO_BATCH = 64


def default_micro_batch(device: torch.device, distributed_run: bool) -> int:
    """Queries per forward pass when the request names none: more on a GPU, where a pass of 16 leaves it idle.

    Under torchrun a rank cannot halve its micro-batch alone on out-of-memory, so ranks keep the method's 16.
    """
    return GPU_MICRO_BATCH if device.type == "cuda" and not distributed_run else METHOD_MICRO_BATCH


def warmup_steps_for(steps_per_epoch: int) -> int:
    """Linear warmup length of the method: ``max(10, half an epoch)`` steps (half an epoch rounded up)."""
    return max(MIN_WARMUP_STEPS, math.ceil(steps_per_epoch / 2))


def lr_lambda(warmup_steps: int, total_steps: int, final_ratio: float = FINAL_LR_RATIO) -> Callable[[int], float]:
    """The learning-rate factor for :class:`~torch.optim.lr_scheduler.LambdaLR`.

    ``factor(s)`` multiplies the lr of optimiser step ``s + 1`` (``s`` steps done): it rises linearly over the
    first ``warmup_steps`` steps (``1 / warmup_steps`` on the first, 1 on the last warmup step) and then falls
    linearly to ``final_ratio`` on the last of ``total_steps`` steps, staying there after.

    Args:
        warmup_steps: number of warmup steps (at least 1).
        total_steps: planned number of optimiser steps.
        final_ratio: factor on the last step.

    Returns:
        A function of the number of completed steps.
    """
    warmup_steps = max(1, warmup_steps)

    def factor(done: int) -> float:
        if done < warmup_steps:
            return (done + 1) / warmup_steps
        decay_steps = total_steps - warmup_steps
        if decay_steps <= 0:
            return 1.0
        progress = min(1.0, (done + 1 - warmup_steps) / decay_steps)
        return 1.0 - (1.0 - final_ratio) * progress

    return factor


def read_queries(path: Path, passages: dict[str, str] | None = None) -> list[Query]:
    """Read a ``train.jsonl`` / ``dev.jsonl`` file.

    Args:
        path: the file.
        passages: known passage ids; when given, every candidate must be one of them.

    Returns:
        The queries, in file order.

    Raises:
        Problem: naming the file and line, when the file is missing, empty or malformed.
    """
    fix = f"Recreate {path.name} (the data step writes it) or fix the line named"
    queries = []
    for line_number, record in _read_jsonl(path, fix):

        def bad(reason: str, line_number: int = line_number) -> Problem:
            return Problem(f"{path}, line {line_number}: {reason}", fix)

        if not isinstance(record, dict):
            raise bad("expected a JSON object")
        qid, text, candidates, scores = (record.get(key) for key in ("qid", "query", "candidates", "scores"))
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            raise bad("qid must be a string or a number")
        if not isinstance(text, str) or not text.strip():
            raise bad("query must be a non-empty string")
        if not isinstance(candidates, list) or not 1 <= len(candidates) <= MAX_CANDIDATES:
            raise bad(f"candidates must be a list of 1 to {MAX_CANDIDATES} passage ids")
        if not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in candidates):
            raise bad("candidates must be passage ids (strings or numbers)")
        if not isinstance(scores, list) or len(scores) != len(candidates):
            raise bad("scores must be a list as long as candidates")
        if not all(isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) for s in scores):
            raise bad("scores must be finite numbers (a NaN or infinite teacher score is not a score)")
        candidates = [str(c) for c in candidates]
        if passages is not None:
            missing = [c for c in candidates if c not in passages]
            if missing:
                raise bad(f"candidate {missing[0]!r} is not in {PASSAGES_FILE}")
        queries.append(Query(str(qid), text, candidates, [float(s) for s in scores]))
    if not queries:
        raise Problem(f"{path} has no queries", fix)
    return queries


def read_passages(path: Path) -> dict[str, str]:
    """Read ``passages.jsonl`` into ``{id: text}``.

    Raises:
        Problem: naming the file and line, when the file is missing, empty or malformed.
    """
    fix = f"Recreate {path.name} (the data step writes it) or fix the line named"
    passages = {}
    for line_number, record in _read_jsonl(path, fix):
        if not isinstance(record, dict):
            raise Problem(f"{path}, line {line_number}: expected a JSON object", fix)
        pid, text = record.get("id"), record.get("text")
        if not isinstance(pid, (str, int)) or isinstance(pid, bool) or not isinstance(text, str):
            raise Problem(f"{path}, line {line_number}: expected an id and a text string", fix)
        passages[str(pid)] = text
    if not passages:
        raise Problem(f"{path} has no passages", fix)
    return passages


def set_dropout_to_zero(model: torch.nn.Module) -> int:
    """Set every dropout probability in ``model`` to 0 (method step 7) and return how many modules changed.

    Besides the method asking for it, GradCache needs it: each micro-batch is encoded twice (once without
    grad to cache embeddings, once with grad to back-propagate), and the two passes must give the same
    embeddings. Attention implementations that read the rate from the config are covered as well.
    """
    changed = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
            changed += 1
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            for key, value in config.to_dict().items():
                if "dropout" in key and isinstance(value, float) and value != 0.0:
                    setattr(config, key, 0.0)
    return changed


class _Batch:
    """A batch of queries in the layout of :mod:`specialize_trainer.losses`."""

    def __init__(self, queries: Sequence[Query], passages: dict[str, str]) -> None:
        width = max(len(q.candidates) for q in queries)
        self.query_texts = [q.text for q in queries]
        self.passage_texts: list[str] = []
        self.passage_ids: list[str] = []
        self.passages_per_query = [len(q.candidates) for q in queries]
        self.candidate_index = torch.full((len(queries), width), -1, dtype=torch.long)
        self.teacher_scores = torch.zeros((len(queries), width), dtype=torch.float64)
        for row, query in enumerate(queries):
            for column, (pid, score) in enumerate(zip(query.candidates, query.scores)):
                self.candidate_index[row, column] = len(self.passage_ids)
                self.teacher_scores[row, column] = score
                self.passage_ids.append(pid)
                self.passage_texts.append(passages[pid])


class _Trainer:
    def __init__(self, config: TrainConfig, ctx: Any) -> None:
        self.config = config
        self.ctx = ctx
        self.run_dir = Path(config.run_dir)
        self.checkpoint_dir = self.run_dir / config.checkpoints
        if not self.run_dir.is_dir():
            raise Problem(f"run_dir {self.run_dir} does not exist", "Prepare the run's data before training")
        self.passages = read_passages(self.run_dir / PASSAGES_FILE)
        self.train = read_queries(self.run_dir / TRAIN_FILE, self.passages)
        self.dev = read_queries(self.run_dir / DEV_FILE, self.passages)
        self.steps_per_epoch = math.ceil(len(self.train) / config.batch_size)
        self.planned_steps = self.steps_per_epoch * config.epochs
        self.total_steps = min(self.planned_steps, config.max_steps or self.planned_steps)
        # Under torchrun every rank trains on its own device (gloo on CPU, one GPU per rank with nccl).
        self.world = distributed.world()
        self.writes = self.world is None or self.world.is_main
        self.device = self.world.device if self.world is not None else _resolve_device(config.device)
        self.model = _load_student(config.student, self.device)
        set_dropout_to_zero(self.model)
        # Renamed in sentence-transformers 6; the old name still exists in 3-5.
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.embedding_dim = int(dimension())
        # Halved on out-of-memory (single process only); the largest size that completed a pass is reported.
        self.micro_batch = config.micro_batch or default_micro_batch(self.device, self.world is not None)
        self.largest_fit: int | None = None
        self.inject_oom_above = _injected_oom_limit()
        conventions = read_conventions(self.model)
        self.query_prompt = conventions.query_prompt or None
        self.passage_prompt = conventions.passage_prompt or None
        self.query_max = min(QUERY_MAX_TOKENS, conventions.max_seq_length)
        self.passage_max = min(config.passage_max_tokens, conventions.max_seq_length)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.warmup_steps = warmup_steps_for(self.steps_per_epoch)
        self.scheduler = LambdaLR(self.optimizer, lr_lambda(self.warmup_steps, self.planned_steps))
        self.state = TrainState()
        self.resumed_from: int | None = None

    # -- encoding and loss -------------------------------------------------------------------------

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    def _encoder(
        self, prompt: str | None, max_length: int, tokenized: dict[tuple[str, ...], dict] | None = None
    ) -> Callable[[Sequence[str]], Tensor]:
        """Texts to embeddings; with ``tokenized``, each micro-batch is tokenized once for both GradCache passes."""

        def encode(texts: Sequence[str]) -> Tensor:
            # Called once per micro-batch (twice under GradCache): the cancellation point inside a step. Ranks
            # of a torchrun world must stop together, so they check collectively between steps instead.
            if self.world is None:
                self.ctx.token.raise_if_cancelled()
            if self.inject_oom_above is not None and len(texts) > self.inject_oom_above:
                raise torch.OutOfMemoryError(f"injected: {len(texts)} texts > {self.inject_oom_above}")
            key = tuple(texts)
            features = tokenized.get(key) if tokenized is not None else None
            if features is None:
                # Tokenizing runs on one CPU thread (0.33 s for 1,280 passages of up to 256 tokens on the 2-core
                # development machine) while a GPU waits, so each micro-batch is tokenized once, not once per pass.
                features = self.model.preprocess(
                    list(texts), prompt=prompt, processing_kwargs={"text": {"max_length": max_length}}
                )
                if tokenized is not None:
                    tokenized[key] = features
            # A copy: the model adds its outputs to the dict it is given, and the cache must not keep them.
            features = {k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in features.items()}
            with self._autocast():
                return self.model(features)["sentence_embedding"]

        return encode

    def _loss_fn(self, batch: _Batch) -> Callable[[Tensor, Tensor], LossTerms]:
        config = self.config

        def loss_fn(query_emb: Tensor, passage_emb: Tensor) -> LossTerms:
            return combined_loss(
                query_emb,
                passage_emb,
                batch.candidate_index,
                batch.teacher_scores,
                batch.passage_ids,
                mode=config.mode,
                listwise_weight=config.listwise_weight,
                contrastive_weight=config.contrastive_weight,
                student_temperature=config.student_temperature,
                teacher_temperature=config.teacher_temperature,
                contrastive_temperature=config.contrastive_temperature,
                denoise_ratio=config.denoise_ratio,
            )

        return loss_fn

    def _share(self, batch: _Batch) -> tuple[list[str], list[str], Gather | None]:
        """This rank's queries and passages of ``batch`` and how to join them to the rest (None when alone)."""
        if self.world is None:
            return batch.query_texts, batch.passage_texts, None
        world = self.world
        query_counts = world.shares(len(batch.query_texts))
        bounds = np.cumsum([0, *query_counts])
        passage_counts = [sum(batch.passages_per_query[bounds[r] : bounds[r + 1]]) for r in range(world.world_size)]
        query_offset, passage_offset = int(bounds[world.rank]), sum(passage_counts[: world.rank])
        gather = Gather(
            queries=lambda rows: world.gather_rows(rows, query_counts),
            passages=lambda rows: world.gather_rows(rows, passage_counts),
            query_offset=query_offset,
            passage_offset=passage_offset,
            dim=self.embedding_dim,
        )
        query_texts = batch.query_texts[query_offset : query_offset + query_counts[world.rank]]
        passage_texts = batch.passage_texts[passage_offset : passage_offset + passage_counts[world.rank]]
        return query_texts, passage_texts, gather

    def dev_loss(self) -> float:
        """Mean dev loss per query, batches of ``batch_size`` queries in file order (as in training)."""
        return self._with_oom_retry(self._dev_loss_once)

    def _dev_loss_once(self) -> float:
        micro = self.micro_batch
        encode_query = self._encoder(self.query_prompt, self.query_max)
        encode_passage = self._encoder(self.passage_prompt, self.passage_max)
        chunk = micro * MAX_CANDIDATES
        total, count = 0.0, 0
        with torch.no_grad():
            for start in range(0, len(self.dev), self.config.batch_size):
                batch = _Batch(self.dev[start : start + self.config.batch_size], self.passages)
                query_texts, passage_texts, gather = self._share(batch)
                query_emb = concat_rows(
                    [encode_query(query_texts[i : i + micro]) for i in range(0, len(query_texts), micro)],
                    self.embedding_dim,
                )
                passage_emb = concat_rows(
                    [encode_passage(passage_texts[i : i + chunk]) for i in range(0, len(passage_texts), chunk)],
                    self.embedding_dim,
                )
                if gather is not None:
                    query_emb, passage_emb = gather.queries(query_emb), gather.passages(passage_emb)
                loss = self._loss_fn(batch)(query_emb, passage_emb).total
                total += float(loss) * len(batch.query_texts)
                count += len(batch.query_texts)
        return total / count

    def train_step(self, queries: Sequence[Query]) -> LossTerms:
        batch = _Batch(queries, self.passages)
        query_texts, passage_texts, gather = self._share(batch)

        def attempt() -> LossTerms:
            self.optimizer.zero_grad(set_to_none=True)
            return grad_cache_backward(
                query_texts,
                passage_texts,
                self._encoder(self.query_prompt, self.query_max, tokenized={}),
                self._loss_fn(batch),
                encode_passage=self._encoder(self.passage_prompt, self.passage_max, tokenized={}),
                query_chunk_size=self.micro_batch,
                passage_chunk_size=self.micro_batch * MAX_CANDIDATES,
                gather=gather,
                # Micro-batches of similar length pad less (the gradient is the same).
                length=len,
            )

        terms = self._with_oom_retry(attempt)
        if self.world is not None:
            self.world.sum_gradients(self.model.parameters())
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        if not torch.isfinite(terms.total) or not torch.isfinite(grad_norm):
            self.optimizer.zero_grad(set_to_none=True)
            return terms
        self.optimizer.step()
        self.scheduler.step()
        return terms

    def _with_oom_retry(self, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt``; on out-of-memory halve the micro-batch and run it again, down to 1 query.

        GradCache makes the result independent of the micro-batch size, so a retry changes speed, not the
        model. Under torchrun the other ranks are inside a collective with this one, so a rank cannot retry
        alone: the out-of-memory becomes a problem that names the size to try.
        """
        while True:
            try:
                result = attempt()
            except (torch.OutOfMemoryError, RuntimeError) as error:
                if not _is_out_of_memory(error):
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                fit = (
                    f"the largest micro-batch that completed was {self.largest_fit} queries"
                    if self.largest_fit is not None
                    else "no micro-batch completed"
                )
                if self.world is not None:
                    raise Problem(
                        f"out of memory on rank {self.world.rank} with micro_batch {self.micro_batch}; {fit}",
                        f"Train again with micro_batch {max(1, self.micro_batch // 2)}",
                    ) from error
                if self.micro_batch == 1:
                    raise Problem(
                        f"out of memory even with micro_batch 1 (1 query or {MAX_CANDIDATES} passages per pass); "
                        f"{fit}",
                        "Use a device with more memory, a smaller student, or shorter passages",
                    ) from error
                smaller = self.micro_batch // 2
                logger.warning("out of memory with micro_batch %d; retrying with %d", self.micro_batch, smaller)
                self.micro_batch = smaller
                continue
            self.largest_fit = max(self.largest_fit or 0, self.micro_batch)
            return result

    def _check_cancelled(self) -> None:
        if self.world is None:
            self.ctx.token.raise_if_cancelled()
        elif self.world.any(self.ctx.token.cancelled):
            raise RequestCancelled("Request cancelled")

    # -- checkpoints -------------------------------------------------------------------------------

    def _resume_settings(self) -> dict[str, Any]:
        settings = asdict(self.config)
        return {key: settings[key] for key in _RESUME_KEYS}

    def save_checkpoint(self) -> None:
        """Write ``checkpoints/last/`` atomically: a full tmp folder, then two renames (rank 0 only)."""
        if not self.writes:
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        final = self.checkpoint_dir / "last"
        tmp = self.checkpoint_dir / f"last.tmp-{os.getpid()}"
        old = self.checkpoint_dir / "last.old"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
        }
        meta = {"format": CHECKPOINT_FORMAT, "state": asdict(self.state), "settings": self._resume_settings()}
        try:
            save_tensors(state, tmp / "state.pt")
            (tmp / "train_state.json").write_text(json.dumps(meta), encoding="utf-8")
        except BaseException:
            # A half-written checkpoint on a full disk would keep it full; the previous one stays.
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # A directory cannot be renamed over a non-empty one: move the old one aside first. A crash between
        # the renames leaves last.old, which _find_checkpoint falls back to.
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)

    def _find_checkpoint(self) -> Path | None:
        for name in ("last", "last.old"):
            folder = self.checkpoint_dir / name
            if (folder / "state.pt").is_file() and (folder / "train_state.json").is_file():
                return folder
        return None

    def load_checkpoint(self) -> bool:
        folder = self._find_checkpoint()
        if folder is None:
            return False
        fix = f"Delete {self.checkpoint_dir} to start this run over, or train with the settings it was started with"
        try:
            meta = json.loads((folder / "train_state.json").read_text(encoding="utf-8"))
        except ValueError as error:
            raise Problem(f"{folder / 'train_state.json'} is not valid JSON ({error})", fix) from error
        if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
            found = meta.get("format", "none") if isinstance(meta, dict) else "none"
            raise Problem(
                f"{folder} was written by another version of the trainer (checkpoint format {found}; this "
                f"version reads format {CHECKPOINT_FORMAT})",
                f"Delete {self.checkpoint_dir} to train this run from the start, or resume it with the version "
                "that wrote it",
            )
        changed = [key for key, value in self._resume_settings().items() if meta["settings"].get(key) != value]
        if changed:
            raise Problem(f"{folder} was written with different settings ({', '.join(changed)})", fix)
        # Our own file (it holds numpy and python RNG states, which weights_only refuses).
        saved = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        rng = saved["rng"]
        random.setstate(rng["python"])
        np.random.set_state(rng["numpy"])
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.state = TrainState(**meta["state"])
        self.resumed_from = self.state.step
        return True

    def _save_best(self) -> None:
        if not self.writes:
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_dir / f"best.pt.tmp-{os.getpid()}"
        save_tensors({"step": self.state.step, "model": self.model.state_dict()}, tmp)
        os.replace(tmp, self.checkpoint_dir / "best.pt")

    def _load_best(self) -> dict[str, Tensor]:
        saved = torch.load(self.checkpoint_dir / "best.pt", map_location="cpu", weights_only=True)
        if saved["step"] != self.state.best_step:
            raise Problem(
                f"{self.checkpoint_dir / 'best.pt'} is from step {saved['step']}, expected {self.state.best_step}",
                f"Delete {self.checkpoint_dir} and train again",
            )
        return saved["model"]

    # -- the loop ----------------------------------------------------------------------------------

    def _evaluate(self) -> float:
        dev = self.dev_loss()
        state = self.state
        state.dev_losses.append(dev)
        if not math.isfinite(dev):
            raise Problem(
                f"the dev loss is {dev} after {state.step} steps; the last good checkpoint is kept in "
                f"{self.checkpoint_dir / 'last'}",
                "Check the teacher scores and try a lower lr",
            )
        if state.best_dev_loss is None or dev < state.best_dev_loss:
            state.best_dev_loss, state.best_step, state.bad_epochs = dev, state.step, 0
            self._save_best()
        else:
            state.bad_epochs += 1
        self.ctx.progress(
            "dev", state.epoch, self.config.epochs, loss={"dev": dev}, message=f"dev loss before epoch {state.epoch}"
        )
        logger.info("dev loss %.6f before epoch %d (step %d)", dev, state.epoch, state.step)
        return dev

    def run(self) -> dict[str, Any]:
        config, state = self.config, self.state
        start = time.monotonic()
        trained_queries, train_seconds, steps_this_call = 0, 0.0, 0
        self.model.train()
        stopped = None
        try:
            while stopped is None:
                if not state.evaluated:
                    if self._max_steps_reached() and state.epoch < config.epochs:
                        # Left for the final evaluation below, and for a resumed run with more steps.
                        stopped = "max_steps"
                        break
                    self._evaluate()
                    shuffle = np.random.RandomState(config.seed + state.epoch)
                    state.order = [int(i) for i in shuffle.permutation(len(self.train))]
                    state.batch_index = 0
                    state.evaluated = True
                    self.save_checkpoint()
                if state.bad_epochs >= config.patience:
                    stopped = "early"
                    break
                if state.epoch >= config.epochs:
                    stopped = "max_epochs"
                    break
                while state.batch_index < self.steps_per_epoch:
                    if self._max_steps_reached():
                        stopped = "max_steps"
                        break
                    self._check_cancelled()
                    begin = state.batch_index * config.batch_size
                    indices = state.order[begin : begin + config.batch_size]
                    step_start = time.monotonic()
                    lr = self.scheduler.get_last_lr()[0]
                    terms = self.train_step([self.train[i] for i in indices])
                    if not torch.isfinite(terms.total):
                        raise Problem(
                            f"the training loss became {float(terms.total)} at step {state.step + 1}; training "
                            f"stopped and the last good checkpoint (step {self._checkpoint_step()}) is kept in "
                            f"{self.checkpoint_dir / 'last'}",
                            "Check the teacher scores in train.jsonl and try a lower lr; train/run resumes from "
                            "the checkpoint",
                        )
                    state.batch_index += 1
                    state.step += 1
                    train_seconds += time.monotonic() - step_start
                    trained_queries += len(indices)
                    if state.step % config.checkpoint_every == 0:
                        self.save_checkpoint()
                    steps_this_call += 1
                    self._report(terms, lr, trained_queries, train_seconds, steps_this_call)
                if stopped is None:
                    state.epoch += 1
                    state.evaluated = False
        except RequestCancelled:
            # The current step (if any) was not applied: the checkpoint holds the state before it.
            self.optimizer.zero_grad(set_to_none=True)
            self.save_checkpoint()
            raise
        self.save_checkpoint()
        dev_losses = list(state.dev_losses)
        best_dev, final_is_best = state.best_dev_loss, False
        if stopped == "max_steps":
            # The model after the last step has not been evaluated; it is the output if it is better.
            # (Not recorded in the checkpoint, so a later run with more steps continues as if never stopped.)
            final_dev = self.dev_loss()
            dev_losses.append(final_dev)
            if math.isfinite(final_dev) and final_dev < state.best_dev_loss:
                best_dev, final_is_best = final_dev, True
        output = self.run_dir / config.output
        if self.writes:
            if not final_is_best:
                self.model.load_state_dict(self._load_best())
            self.model.save(str(output))
        seconds = time.monotonic() - start
        return {
            "steps": state.step,
            "epochs": state.epoch,
            "best_dev_loss": best_dev,
            "dev_losses": dev_losses,
            "stopped": stopped,
            "output": str(output),
            "seconds": seconds,
            "queries_per_second": trained_queries / train_seconds if train_seconds > 0 else None,
            "steps_per_epoch": self.steps_per_epoch,
            "warmup_steps": self.warmup_steps,
            "train_queries": len(self.train),
            "dev_queries": len(self.dev),
            "resumed_from_step": self.resumed_from,
            "micro_batch": self.micro_batch,
            "world_size": self.world.world_size if self.world is not None else 1,
        }

    def _max_steps_reached(self) -> bool:
        return self.config.max_steps is not None and self.state.step >= self.config.max_steps

    def _checkpoint_step(self) -> int | None:
        folder = self._find_checkpoint()
        if folder is None:
            return None
        return json.loads((folder / "train_state.json").read_text(encoding="utf-8"))["state"]["step"]

    def _report(self, terms: LossTerms, lr: float, trained_queries: int, train_seconds: float, steps: int) -> None:
        loss = {"total": float(terms.total)}
        if terms.listwise is not None:
            loss["listwise"] = float(terms.listwise)
        if terms.contrastive is not None:
            loss["contrastive"] = float(terms.contrastive)
        rate = trained_queries / train_seconds if train_seconds > 0 else None
        eta = (self.total_steps - self.state.step) * train_seconds / steps
        self.ctx.progress(
            "train",
            self.state.step,
            self.total_steps,
            loss=loss,
            lr=lr,
            throughput=rate,
            throughput_unit="queries",
            eta_seconds=eta,
        )


def train_run(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """The ``train/run`` handler: train (or resume training) the student of ``params["run_dir"]``.

    Args:
        params: see :class:`TrainConfig`; ``run_dir`` and ``student`` are required.
        ctx: the request context (``token`` and ``progress``).

    Returns:
        ``steps``, ``epochs``, ``best_dev_loss``, ``dev_losses``, ``stopped`` (``"early"``, ``"max_epochs"`` or
        ``"max_steps"``), ``output``, ``seconds``, ``queries_per_second``, ``steps_per_epoch`` and a few
        details (``warmup_steps``, ``train_queries``, ``dev_queries``, ``resumed_from_step``).

    Raises:
        InvalidParams: on bad params.
        Problem: on missing or malformed data, a student that does not load, a checkpoint written with other
            settings, or a loss that became NaN.
        RequestCancelled: when cancelled, after writing a checkpoint to resume from.
    """
    world = distributed.world()
    if world is not None and world.is_main:
        # The other ranks run the same request (and fail the same way on bad params).
        if not _COLLECTIVE.acquire(blocking=False):
            raise Problem("another train/run is running on this torchrun world", "Wait for it or cancel it")
        try:
            world.send_command(protocol.TRAIN_RUN, params)
            return _train(params, ctx)
        finally:
            _COLLECTIVE.release()
    return _train(params, ctx)


def _train(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    config = parse_params(params)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    np.random.seed(config.seed)
    trainer = _Trainer(config, ctx)
    if trainer.load_checkpoint():
        logger.info("resuming %s from step %d", config.run_dir, trainer.state.step)
    if trainer.steps_per_epoch < 10:
        logger.warning(
            "%d training queries at batch_size %d give only %d optimiser step(s) per epoch",
            len(trainer.train),
            config.batch_size,
            trainer.steps_per_epoch,
        )
    # Grad mode is per thread and may have been switched off globally (onnx_export does so in-process).
    with torch.enable_grad():
        return trainer.run()


def register_training(server: Any) -> None:
    """Register the real ``train/run`` handler on ``server`` (replacing the not-implemented stub)."""
    server.register(protocol.TRAIN_RUN, train_run)


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise Problem("device 'cuda' was asked for but torch sees no CUDA device", "Use device 'auto' or 'cpu'")
    return torch.device(name)


def _load_student(path: str, device: torch.device):
    from sentence_transformers import SentenceTransformer

    if not Path(path).is_dir():
        raise Problem(f"student {path} is not a folder", "Point student at a sentence-transformers model folder")
    try:
        return SentenceTransformer(path, device=str(device), local_files_only=True)
    except Exception as error:
        raise Problem(
            f"student {path} does not load as a sentence-transformers model: {error}",
            "Point student at a sentence-transformers model folder",
        ) from error


def _is_out_of_memory(error: BaseException) -> bool:
    # CUDA raises torch.OutOfMemoryError; the CPU allocator raises a RuntimeError with this wording.
    return isinstance(error, torch.OutOfMemoryError) or "can't allocate memory" in str(error)


def _injected_oom_limit() -> int | None:
    value = os.environ.get(INJECT_OOM_ENV)
    return int(value) if value else None


def _read_jsonl(path: Path, fix: str):
    if not path.is_file():
        raise Problem(f"{path} is missing", fix)
    with open(path, encoding="utf-8") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                yield line_number, json.loads(line)
            except ValueError as error:
                raise Problem(f"{path}, line {line_number}: not valid JSON ({error})", fix) from error


def _check_int(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InvalidParams(f"{name} must be a whole number of at least {low}, got {value!r}")


def _check_number(name: str, value: Any, positive: bool) -> None:
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not valid or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise InvalidParams(f"{name} must be a {kind} number, got {value!r}")


def save_tensors(obj: Any, path: Path) -> None:
    """``torch.save`` through a Python file object.

    Why not a path: torch's own file writer reports a failed write as "unexpected pos …", which says nothing;
    through a Python file the failed write's ``OSError`` (ENOSPC, EFBIG) rides along as ``__context__``, so
    the server can tell the user the disk is full.
    """
    try:
        with open(path, "wb") as file:
            torch.save(obj, file)
    except BaseException:
        # A partial file on a full disk would keep it full.
        path.unlink(missing_ok=True)
        raise
