"""Trainer throughput: teacher pairs/s and training queries/s, ours against sentence-transformers.

Two measurements, on one device, with the same model, data and thread count:

1. **Teacher scoring** -- our ``score_run`` (``teacher/score``) with a bi-encoder scorer on the default
   student (no cross-encoder is available offline) against sentence-transformers doing the same scoring
   directly: ``model.encode`` of the distinct queries and passages, then the cosine of each pair.
   Repetitions are interleaved, alternating which side goes first.
2. **Training** -- our ``train_run`` (``train/run``: mode ``combined``, GradCache) against
   ``DistillKLDivLoss`` of sentence-transformers on the same queries, candidates and teacher scores, with
   the same batch size and number of optimiser steps. Through ``SentenceTransformerTrainer`` when
   ``accelerate`` and ``datasets`` are installed; otherwise through an equivalent minimal loop (the
   trainer's own data collator, the loss, backward, gradient clipping, AdamW and a linear warmup).

Data: ``--queries`` Cranfield queries that have a relevant document, each with ``--candidates``
candidates -- the most relevant judged document first, then documents drawn by a seeded RNG -- and the
passage texts from ``corpus.jsonl``. Training uses the normalised teacher scores of step 1.

Example::

    .venv/bin/python bench/trainer_throughput.py --device cpu --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainer"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

# ---------------------------------------------------------------------------------------------------
# Machine and load


class CpuMeter:
    """How many cores other processes kept busy (and steal) between ``start`` and ``stop``, from /proc/stat."""

    def __init__(self) -> None:
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.begin: tuple[float, float, float, float] | None = None

    @staticmethod
    def _proc_stat() -> tuple[float, float]:
        try:
            with open("/proc/stat", encoding="ascii") as file:
                fields = [float(v) for v in file.readline().split()[1:]]
        except OSError:
            return math.nan, math.nan
        # user nice system idle iowait irq softirq steal ...
        busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
        steal = fields[7] if len(fields) > 7 else 0.0
        return busy, steal

    def _sample(self) -> tuple[float, float, float, float]:
        busy, steal = self._proc_stat()
        t = os.times()
        return time.monotonic(), busy, steal, t.user + t.system + t.children_user + t.children_system

    def start(self) -> None:
        self.begin = self._sample()

    def stop(self) -> dict[str, float]:
        assert self.begin is not None
        end = self._sample()
        elapsed = max(end[0] - self.begin[0], 1e-9)
        machine = (end[1] - self.begin[1]) / self.hz
        own = end[3] - self.begin[3]
        return {
            "seconds": elapsed,
            "own_cores": own / elapsed,
            "other_cores": max(0.0, (machine - own) / elapsed),
            "steal_cores": (end[2] - self.begin[2]) / self.hz / elapsed,
        }


def machine_info(device: str, threads: int) -> dict[str, Any]:
    import sentence_transformers
    import transformers

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "device": device,
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
        info["cuda"] = torch.version.cuda
    return info


# ---------------------------------------------------------------------------------------------------
# Data


def default_model() -> str | None:
    """The default student in Specialize's cache (prepared by scripts/setup.sh), if it is there."""
    from specialize_trainer.paths import cached_model_dir

    folder = cached_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    return str(folder) if (folder / "modules.json").is_file() else None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def build_data(collection: Path, count: int, candidates: int, seed: int) -> tuple[list[dict], dict[str, str]]:
    """``count`` queries with a judged relevant document: ``{qid, query, candidates}`` and the passages used."""
    corpus = {}
    for record in read_jsonl(collection / "corpus.jsonl"):
        title, text = record.get("title") or "", record.get("text") or ""
        corpus[str(record["_id"])] = text if not title or text.startswith(title) else f"{title}. {text}"
    best: dict[str, tuple[float, str]] = {}
    with open(collection / "qrels" / "test.tsv", encoding="utf-8") as file:
        next(file)
        for line in file:
            qid, doc, score = line.rstrip("\n").split("\t")[:3]
            score_value = float(score)
            if score_value > 0 and doc in corpus and (qid not in best or score_value > best[qid][0]):
                best[qid] = (score_value, doc)
    ids = sorted(corpus)
    rng = random.Random(seed)
    queries = []
    for record in read_jsonl(collection / "queries.jsonl"):
        qid = str(record["_id"])
        if qid not in best:
            continue
        positive = best[qid][1]
        others = [doc for doc in rng.sample(ids, candidates + 5) if doc != positive][: candidates - 1]
        queries.append({"qid": qid, "query": record["text"], "candidates": [positive, *others]})
        if len(queries) == count:
            break
    if len(queries) < count:
        raise SystemExit(f"{collection} has only {len(queries)} queries with a relevant document")
    used = {doc for query in queries for doc in query["candidates"]}
    return queries, {doc: corpus[doc] for doc in sorted(used)}


def write_jsonl(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_teacher_dir(folder: Path, queries: list[dict], passages: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "teacher_input.jsonl", [{**q, "type": "bench"} for q in queries])
    write_jsonl(folder / "passages.jsonl", [{"id": pid, "text": text} for pid, text in passages.items()])


def token_counter(model, max_length: int):
    cache: dict[str, int] = {}

    def count(texts: list[str]) -> int:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        for start in range(0, len(todo), 256):
            chunk = todo[start : start + 256]
            features = model.preprocess(chunk, processing_kwargs={"text": {"max_length": max_length}})
            for text, n in zip(chunk, features["attention_mask"].sum(dim=1).tolist()):
                cache[text] = int(n)
        return sum(cache[t] for t in texts)

    return count


# ---------------------------------------------------------------------------------------------------
# Helpers


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def reset_peak(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mib(device: str) -> float | None:
    if device != "cuda":
        return None
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def autocast(device: str):
    if device == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / statistics.median(values) if len(values) > 1 else 0.0


class _Token:
    def raise_if_cancelled(self) -> None:
        return None


class _Ctx:
    """The request context ``train_run`` expects; keeps each training step's cumulative throughput."""

    def __init__(self) -> None:
        self.token = _Token()
        self.steps: list[tuple[int, float]] = []

    def progress(self, stage: str, done: int, total: int, **kwargs: Any) -> None:
        if stage == "train" and kwargs.get("throughput"):
            self.steps.append((done, float(kwargs["throughput"])))


# ---------------------------------------------------------------------------------------------------
# 1. Teacher scoring


def teacher_bench(args, queries, passages, work: Path, log) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from specialize_trainer.teacher import BiEncoderScorer, score_run

    device = args.device
    spec = {"kind": "bi-encoder", "model": args.model}
    pairs = [(q["query"], passages[c]) for q in queries for c in q["candidates"]]
    log(
        f"teacher: {len(queries)} queries x {args.candidates} candidates = {len(pairs)} pairs, {args.teacher_reps} reps"
    )

    start = time.perf_counter()
    scorer = BiEncoderScorer(args.model, device)
    ours_load = time.perf_counter() - start
    start = time.perf_counter()
    st_model = SentenceTransformer(args.model, device=device, local_files_only=True)
    st_load = time.perf_counter() - start
    count_tokens = token_counter(st_model, st_model.max_seq_length)

    distinct_q = list(dict.fromkeys(q for q, _ in pairs))
    distinct_p = list(dict.fromkeys(p for _, p in pairs))
    st_texts = len(distinct_q) + len(distinct_p)
    st_tokens = count_tokens(distinct_q) + count_tokens(distinct_p)
    # Ours remembers every embedding it made (up to 100k texts), so it too encodes each distinct text once,
    # in length-sorted batches of pairs rather than one big encode call per side.
    ours_texts, ours_tokens = st_texts, st_tokens

    def run_ours(rep: int) -> tuple[float, np.ndarray]:
        folder = work / f"teacher-{rep}"
        shutil.rmtree(folder, ignore_errors=True)
        write_teacher_dir(folder, queries, passages)
        # The scorer remembers embeddings between calls (within one scoring run that is the point); each
        # repetition starts cold, like a new run, or the second would only read the cache.
        scorer._query_cache.clear()
        scorer._passage_cache.clear()
        sync(device)
        begin = time.perf_counter()
        result = score_run(
            folder, spec, batch_size=args.teacher_batch, device=device, scorer_loader=lambda s, d: scorer
        )
        sync(device)
        seconds = time.perf_counter() - begin
        assert result["pairs"] == len(pairs) and result["resumed_shards"] == 0
        raw = np.concatenate([np.asarray(r["raw"]) for r in read_jsonl(folder / "teacher_scores.jsonl")])
        return seconds, raw

    def run_st() -> tuple[float, np.ndarray]:
        sync(device)
        begin = time.perf_counter()
        with torch.inference_mode(), autocast(device):
            q = st_model.encode(
                distinct_q,
                batch_size=args.teacher_batch,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            p = st_model.encode(
                distinct_p,
                batch_size=args.teacher_batch,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            q_rows = {t: i for i, t in enumerate(distinct_q)}
            p_rows = {t: i for i, t in enumerate(distinct_p)}
            left = q[[q_rows[a] for a, _ in pairs]].float()
            right = p[[p_rows[b] for _, b in pairs]].float()
            scores = (left * right).sum(dim=1).cpu().numpy()
        seconds = time.perf_counter() - begin
        return seconds, scores

    # Warm-up: both models once on a few pairs (allocator, kernels, thread pools).
    warm = pairs[: min(len(pairs), args.teacher_batch)]
    with torch.inference_mode(), autocast(device):
        scorer.score(warm)
        st_model.encode([p for _, p in warm], batch_size=args.teacher_batch, show_progress_bar=False)

    ours_times, st_times, ours_peak, st_peak = [], [], [], []
    ours_raw = st_raw = None
    meter = CpuMeter()
    meter.start()
    for rep in range(args.teacher_reps):
        for side in ("ours", "st") if rep % 2 == 0 else ("st", "ours"):
            reset_peak(device)
            if side == "ours":
                seconds, ours_raw = run_ours(rep)
                ours_times.append(seconds)
                ours_peak.append(peak_mib(device))
            else:
                seconds, st_raw = run_st()
                st_times.append(seconds)
                st_peak.append(peak_mib(device))
            log(f"  rep {rep + 1} {side}: {seconds:.2f} s ({len(pairs) / seconds:.1f} pairs/s)")
    load = meter.stop()
    agreement = float(np.corrcoef(ours_raw, st_raw)[0, 1])
    max_diff = float(np.max(np.abs(ours_raw - st_raw)))
    return {
        "pairs": len(pairs),
        "queries": len(queries),
        "batch_size": args.teacher_batch,
        "ours": {
            "seconds": ours_times,
            "pairs_per_second": [len(pairs) / s for s in ours_times],
            "texts_encoded": ours_texts,
            "tokens": ours_tokens,
            "tokens_per_second": [ours_tokens / s for s in ours_times],
            "model_load_seconds": ours_load,
            "peak_memory_mib": max(ours_peak) if device == "cuda" else None,
        },
        "sentence_transformers": {
            "seconds": st_times,
            "pairs_per_second": [len(pairs) / s for s in st_times],
            "texts_encoded": st_texts,
            "tokens": st_tokens,
            "tokens_per_second": [st_tokens / s for s in st_times],
            "model_load_seconds": st_load,
            "peak_memory_mib": max(st_peak) if device == "cuda" else None,
        },
        "ratio_median": statistics.median(st_times) / statistics.median(ours_times),
        "ratio_best": min(st_times) / min(ours_times),
        "score_correlation": agreement,
        "score_max_abs_diff": max_diff,
        "load": load,
    }


# ---------------------------------------------------------------------------------------------------
# 2. Training


def ours_train(args, run_dir: Path) -> dict[str, Any]:
    from specialize_trainer.training import train_run

    ctx = _Ctx()
    params = {
        "run_dir": str(run_dir),
        "student": args.model,
        "mode": "combined",
        "batch_size": args.batch_size,
        "micro_batch": args.micro_batch,
        "max_steps": args.steps,
        "epochs": 1000,
        "checkpoint_every": 1_000_000,
        "device": args.device,
        "seed": args.seed,
    }
    reset_peak(args.device)
    begin = time.perf_counter()
    result = train_run(params, ctx)
    wall = time.perf_counter() - begin
    peak = peak_mib(args.device)
    # Cumulative training seconds after each step (train_run reports queries / training seconds so far).
    cumulative = [done * args.batch_size / rate for done, rate in ctx.steps]
    steps = [b - a for a, b in zip([0.0, *cumulative], cumulative)]
    return {
        "step_seconds": steps,
        "wall_seconds": wall,
        "peak_memory_mib": peak,
        "queries_per_second_reported": result["queries_per_second"],
        "steps": result["steps"],
    }


def st_rows(queries: list[dict], passages: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for q in queries:
        row: dict[str, Any] = {"query": q["query"], "positive": passages[q["candidates"][0]]}
        for i, pid in enumerate(q["candidates"][1:], start=1):
            row[f"negative_{i}"] = passages[pid]
        row["label"] = torch.tensor(q["scores"], dtype=torch.float32)
        rows.append(row)
    return rows


def make_st_loss(model):
    from sentence_transformers.sentence_transformer.losses import DistillKLDivLoss
    from sentence_transformers.util import pairwise_cos_sim

    # Cosine similarity and the temperatures of our listwise term, so both sides see the same targets.
    return DistillKLDivLoss(model, similarity_fct=pairwise_cos_sim, student_temperature=0.05, teacher_temperature=0.3)


def trainer_available() -> bool:
    try:
        import accelerate  # noqa: F401
        import datasets  # noqa: F401
    except ImportError:
        return False
    return True


def st_train_trainer(args, rows: list[dict], work: Path) -> dict[str, Any]:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments
    from transformers import TrainerCallback

    torch.manual_seed(args.seed)
    model = SentenceTransformer(args.model, device=args.device, local_files_only=True)
    loss = make_st_loss(model)
    columns = {key: [row[key] for row in rows] for key in rows[0] if key != "label"}
    columns["label"] = [row["label"].tolist() for row in rows]
    dataset = Dataset.from_dict(columns)
    marks: list[float] = []

    class Timer(TrainerCallback):
        def on_train_begin(self, *a, **k):
            sync(args.device)
            marks.append(time.perf_counter())

        def on_step_end(self, *a, **k):
            sync(args.device)
            marks.append(time.perf_counter())

    training_args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "st-trainer"),
        per_device_train_batch_size=args.batch_size,
        max_steps=args.steps,
        learning_rate=2e-4,
        weight_decay=0.01,
        max_grad_norm=1.0,
        warmup_steps=min(10, args.steps),
        lr_scheduler_type="linear",
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=args.device == "cpu",
        bf16=args.device == "cuda",
        dataloader_num_workers=0,
        seed=args.seed,
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=training_args, train_dataset=dataset, loss=loss, callbacks=[Timer()]
    )
    reset_peak(args.device)
    begin = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - begin
    return {
        "how": "SentenceTransformerTrainer",
        "step_seconds": [b - a for a, b in zip(marks, marks[1:])],
        "wall_seconds": wall,
        "peak_memory_mib": peak_mib(args.device),
    }


def st_train_loop(args, rows: list[dict]) -> dict[str, Any]:
    """What SentenceTransformerTrainer does per step, without accelerate/datasets (not installed)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator

    torch.manual_seed(args.seed)
    device = args.device
    model = SentenceTransformer(args.model, device=device, local_files_only=True)
    model.train()
    loss = make_st_loss(model)
    collator = SentenceTransformerDataCollator(preprocess_fn=model.preprocess)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=0.01)
    warmup = min(10, args.steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: (s + 1) / warmup if s < warmup else 1.0)
    generator = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(rows), generator=generator).tolist()
    columns = [key for key in rows[0] if key != "label"]
    reset_peak(device)
    begin = time.perf_counter()
    marks = [begin]
    for step in range(args.steps):
        start = (step * args.batch_size) % len(rows)
        batch_rows = [rows[order[(start + i) % len(rows)]] for i in range(args.batch_size)]
        batch = collator(batch_rows)
        features = [
            # "negative_1_" is no prefix of "negative_10_...": each column gets its own keys only.
            {
                key[len(col) + 1 :]: value.to(device)
                for key, value in batch.items()
                if key.startswith(col + "_") and isinstance(value, torch.Tensor)
            }
            for col in columns
        ]
        labels = batch["label"].to(device)
        optimizer.zero_grad(set_to_none=True)
        with autocast(device):
            value = loss(features, labels)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        sync(device)
        marks.append(time.perf_counter())
    wall = time.perf_counter() - begin
    return {
        "how": "minimal loop (SentenceTransformerDataCollator + DistillKLDivLoss + AdamW)",
        "step_seconds": [b - a for a, b in zip(marks, marks[1:])],
        "wall_seconds": wall,
        "peak_memory_mib": peak_mib(device),
    }


def train_bench(args, queries, dev, passages, work: Path, log) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from specialize_trainer.training import PASSAGE_MAX_TOKENS, QUERY_MAX_TOKENS

    run_dir = work / "train-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    write_jsonl(run_dir / "train.jsonl", queries)
    write_jsonl(run_dir / "dev.jsonl", dev)
    write_jsonl(run_dir / "passages.jsonl", [{"id": pid, "text": text} for pid, text in passages.items()])

    counter_model = SentenceTransformer(args.model, device="cpu", local_files_only=True)
    limit = counter_model.max_seq_length
    count_q = token_counter(counter_model, min(QUERY_MAX_TOKENS, limit))
    count_p = token_counter(counter_model, min(PASSAGE_MAX_TOKENS, limit))
    tokens = count_q([q["query"] for q in queries]) + count_p([passages[c] for q in queries for c in q["candidates"]])
    tokens_per_query = tokens / len(queries)
    del counter_model

    rows = st_rows(queries, passages)
    use_trainer = args.st_trainer == "trainer" or (args.st_trainer == "auto" and trainer_available())
    log(
        f"training: {args.steps} steps x {args.batch_size} queries x {args.candidates} candidates; "
        f"sentence-transformers via {'SentenceTransformerTrainer' if use_trainer else 'a minimal loop (no accelerate/datasets)'}"
    )
    meter = CpuMeter()
    meter.start()
    results: dict[str, Any] = {}
    for side in ("st", "ours") if args.st_first else ("ours", "st"):
        if side == "ours":
            results["ours"] = ours_train(args, run_dir)
        else:
            results["sentence_transformers"] = (
                st_train_trainer(args, rows, work) if use_trainer else st_train_loop(args, rows)
            )
        steps = results["ours" if side == "ours" else "sentence_transformers"]["step_seconds"]
        log(f"  {side}: steps " + ", ".join(f"{s:.2f}" for s in steps) + " s")
    load = meter.stop()
    for key in ("ours", "sentence_transformers"):
        entry = results[key]
        steps = entry["step_seconds"]
        entry["queries_per_second"] = args.batch_size * len(steps) / sum(steps)
        steady = steps[1:] or steps
        entry["queries_per_second_steady"] = args.batch_size * len(steady) / sum(steady)
        entry["tokens_per_second"] = entry["queries_per_second"] * tokens_per_query
    ours, theirs = results["ours"], results["sentence_transformers"]
    return {
        **results,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "micro_batch": args.micro_batch,
        "tokens_per_query": tokens_per_query,
        "ratio": ours["queries_per_second"] / theirs["queries_per_second"],
        "ratio_steady": ours["queries_per_second_steady"] / theirs["queries_per_second_steady"],
        "load": load,
    }


# ---------------------------------------------------------------------------------------------------
# Report


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(result: dict[str, Any]) -> str:
    info, teacher, train = result["machine"], result["teacher"], result["training"]
    cuda = info["device"] == "cuda"
    lines = [f"# trainer throughput ({info['device']})", ""]
    where = info.get("gpu") or info["cpu"]
    lines.append(
        f"machine: {where}; {info['cores']} cores, torch threads {info['torch_threads']}; "
        f"torch {info['torch']}, sentence-transformers {info['sentence_transformers']}, "
        f"transformers {info['transformers']}; {info['platform']}"
    )
    lines.append(f"model: {result['model']}")
    lines += [
        "",
        f"## teacher scoring: {teacher['pairs']} pairs ({teacher['queries']} queries), "
        f"bi-encoder teacher = the default student (no cross-encoder offline), batch {teacher['batch_size']}",
        "",
    ]
    header = "| side | pairs/s median | min | max | texts encoded | tokens/s |" + (" peak MiB |" if cuda else "")
    lines += [header, "|---" * (header.count("|") - 1) + "|"]
    for name, key in (
        ("ours: score_run (bi-encoder)", "ours"),
        ("sentence-transformers encode + cosine", "sentence_transformers"),
    ):
        e = teacher[key]
        row = (
            f"| {name} | {fmt(statistics.median(e['pairs_per_second']))} | {fmt(min(e['pairs_per_second']))} | "
            f"{fmt(max(e['pairs_per_second']))} | {e['texts_encoded']} | {fmt(statistics.median(e['tokens_per_second']), 0)} |"
        )
        if cuda:
            row += f" {fmt(e['peak_memory_mib'], 0)} |"
        lines.append(row)
    lines += [
        "",
        f"ratio ours / sentence-transformers: **{teacher['ratio_median']:.2f}x** (medians), "
        f"{teacher['ratio_best']:.2f}x (best vs best); scores agree: correlation "
        f"{teacher['score_correlation']:.6f}, max |diff| {teacher['score_max_abs_diff']:.2e}; "
        f"model load (not timed): ours {teacher['ours']['model_load_seconds']:.1f} s, "
        f"sentence-transformers {teacher['sentence_transformers']['model_load_seconds']:.1f} s",
    ]
    lines += [
        "",
        f"## training: {train['steps']} steps x {train['batch_size']} queries x {result['candidates']} "
        f"candidates (micro-batch {train['micro_batch']}), {train['tokens_per_query']:.0f} tokens per query",
        "",
    ]
    header = "| side | queries/s | steady (steps 2+) | tokens/s | step seconds |" + (" peak MiB |" if cuda else "")
    lines += [header, "|---" * (header.count("|") - 1) + "|"]
    names = (
        ("ours: train_run (combined, GradCache)", "ours"),
        (f"sentence-transformers DistillKLDivLoss ({train['sentence_transformers']['how']})", "sentence_transformers"),
    )
    for name, key in names:
        e = train[key]
        row = (
            f"| {name} | {fmt(e['queries_per_second'], 2)} | {fmt(e['queries_per_second_steady'], 2)} | "
            f"{fmt(e['tokens_per_second'], 0)} | {' '.join(f'{s:.2f}' for s in e['step_seconds'])} |"
        )
        if cuda:
            row += f" {fmt(e['peak_memory_mib'], 0)} |"
        lines.append(row)
    lines += [
        "",
        f"ratio ours / sentence-transformers: **{train['ratio']:.2f}x** (all steps), "
        f"{train['ratio_steady']:.2f}x (steps 2+); train_run wall time incl. dev loss, checkpoints and "
        f"saving: {train['ours']['wall_seconds']:.1f} s",
        "Not the same computation: ours adds the 0.1-weighted InfoNCE term over the whole batch and "
        "encodes every text twice (GradCache: a no-grad pass, then a pass with grad per micro-batch); "
        "theirs is the KL term only, one forward and backward, with dropout on (ours sets dropout to 0).",
    ]
    lines += [
        "",
        f"load: other processes kept {result['load']['other_cores']:.2f} cores busy, steal "
        f"{result['load']['steal_cores']:.2f} cores; total {result['seconds']:.0f} s",
    ]
    if result["noisy"]:
        lines.append("NOISY RUN: " + "; ".join(result["noisy"]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--model", help="sentence-transformers folder (default: all-MiniLM-L6-v2 in ~/.cache/specialize)"
    )
    parser.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--collection", default="cranfield")
    parser.add_argument("--queries", type=int, default=64, help="training/teacher queries")
    parser.add_argument("--dev-queries", type=int, default=4, help="dev queries train_run needs (not timed)")
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--teacher-batch", type=int, default=64, help="pairs per scorer call / encode batch size")
    parser.add_argument("--teacher-reps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8, help="training queries per optimiser step")
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument(
        "--st-trainer",
        choices=("auto", "trainer", "loop"),
        default="auto",
        help="SentenceTransformerTrainer (needs accelerate + datasets) or the minimal loop",
    )
    parser.add_argument("--st-first", action="store_true", help="train sentence-transformers before ours")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--no-teacher", action="store_true")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()

    args.model = args.model or default_model()
    if not args.model or not Path(args.model).is_dir():
        raise SystemExit("no model folder: pass --model DIR (run `node bin/specialize.js models prepare --json`)")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch sees no CUDA device")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("specialize_trainer").setLevel(logging.ERROR)
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    logging.getLogger("transformers").setLevel(logging.ERROR)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    collection = Path(args.datasets) / args.collection
    everything, passages = build_data(collection, args.queries + args.dev_queries, args.candidates, args.seed)
    queries, dev = everything[: args.queries], everything[args.queries :]
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="trainer-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    meter = CpuMeter()
    meter.start()
    try:
        teacher = teacher_bench(args, queries, passages, work, log)
        # Training targets: our normalised teacher scores (the last teacher run), dev scored the same way, untimed.
        from specialize_trainer.teacher import score_run

        scores = {
            r["qid"]: r["scores"]
            for r in read_jsonl(work / f"teacher-{args.teacher_reps - 1}" / "teacher_scores.jsonl")
        }
        write_teacher_dir(work / "teacher-dev", dev, passages)
        score_run(work / "teacher-dev", {"kind": "bi-encoder", "model": args.model}, device=args.device)
        scores.update({r["qid"]: r["scores"] for r in read_jsonl(work / "teacher-dev" / "teacher_scores.jsonl")})
        train_queries = [{**q, "scores": scores[q["qid"]]} for q in queries]
        dev_queries = [{**q, "scores": scores[q["qid"]]} for q in dev]
        training = train_bench(args, train_queries, dev_queries, passages, work, log)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    load = meter.stop()
    noisy = []
    if load["other_cores"] > 0.1:
        noisy.append(f"other processes kept {load['other_cores']:.2f} cores busy")
    if load["steal_cores"] > 0.1:
        noisy.append(f"steal {load['steal_cores']:.2f} cores")
    for key in ("ours", "sentence_transformers"):
        if spread(teacher[key]["seconds"]) > 0.15:
            noisy.append(f"teacher reps of {key} differ by {spread(teacher[key]['seconds']):.0%}")
    result = {
        "machine": machine_info(args.device, args.threads),
        "model": args.model,
        "collection": str(collection),
        "candidates": args.candidates,
        "settings": {k: v for k, v in vars(args).items() if k not in ("model",)},
        "teacher": teacher,
        "training": training,
        "load": load,
        "noisy": noisy,
        "seconds": time.perf_counter() - started,
    }
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
