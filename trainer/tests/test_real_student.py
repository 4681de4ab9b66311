"""The trainer with the real default student, sentence-transformers/all-MiniLM-L6-v2, on CPU.

The other trainer tests use a tiny random BERT; these check the acceptance criteria on the model users get:
the dev loss falls, early stopping keeps the best model, a run killed with SIGKILL resumes from its
checkpoint and ends where an uninterrupted run ends, and the tuned student exports to ONNX with parity.

The student is read from Specialize's model cache, where ``bash scripts/setup.sh`` (``specialize models
prepare``) puts it; these tests fail, rather than skip, when it is missing.

The data is a small natural-language set: 30 passages on distinct topics, a query for each (two topics
get a second one), 24 training and 8 dev queries, each with its source passage and 5 other passages as
candidates, the teacher scoring the source 1.0 and the others at most 0.5. Temperatures and loss weights are
the method's. With ``batch_size`` 8 an epoch is 3 optimiser steps, so warmup (``max(10, half an epoch)`` =
10 steps) covers every step these tests take: step ``s`` runs at ``lr * s / 10``. lr is 1e-3 rather than the
method's 2e-4, so the 6 steps run at 1e-4 to 6e-4 (the range MiniLM fine-tuning usually peaks at) instead of
2e-5 to 1.2e-4: both lower the dev loss (to about 0.86 and 1.0 from 2.5), but the larger steps leave the
tuned student well inside the int8 export's parity floor (min cosine about 0.996 against 0.97; the smaller
ones about 0.972, a margin another CPU's int8 kernels could eat).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import torch
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer
from server_process import ServerProcess
from transformers import AutoTokenizer

from specialize_trainer.export import model_export
from specialize_trainer.paths import cached_model_dir
from specialize_trainer.pooling import cosine_rows, pool
from specialize_trainer.rpc.server import CancelToken
from specialize_trainer.training import train_run

DEFAULT_STUDENT = "sentence-transformers/all-MiniLM-L6-v2"
# An upper bound for one request, so that a hung server fails the test instead of hanging it.
REQUEST_TIMEOUT = 600.0

PASSAGES = [
    "Sourdough bread rises with wild yeast and lactic bacteria from a fermented flour starter.",
    "Photosynthesis in plant leaves turns sunlight, water and carbon dioxide into sugar and oxygen.",
    "A volcano erupts when pressure from molten magma beneath the crust forces lava to the surface.",
    "The Roman aqueducts carried fresh water into cities using a gentle downhill slope of stone channels.",
    "Honeybees tell hive mates where flowers are by performing a waggle dance on the comb.",
    "A rusty bicycle chain skips gears; clean it with degreaser and apply fresh lubricant.",
    "Interest on a savings account compounds when earned interest is added back to the balance.",
    "Chess openings such as the Sicilian Defence fight for control of the centre squares.",
    "Tides rise and fall twice a day because of the gravitational pull of the moon.",
    "To repot a cactus, wear thick gloves and use fast-draining sandy soil in a clay pot.",
    "A marathon is 42.195 kilometres long, a distance fixed at the 1908 London Olympics.",
    "Vaccines train the immune system to recognise a virus without causing the disease.",
    "Jazz musicians improvise solos over the chord changes of a standard tune.",
    "Glaciers carve U-shaped valleys as the slow-moving ice grinds the rock beneath it.",
    "Python list comprehensions build a new list by applying an expression to each item.",
    "Espresso is brewed by forcing hot water through finely ground, tightly packed coffee.",
    "Solar panels convert sunlight into electricity with photovoltaic silicon cells.",
    "The Great Wall of China was built over centuries to defend northern borders from raids.",
    "Sleep deprivation impairs memory, attention and the ability to regulate mood.",
    "Knitting a scarf starts with casting on stitches and alternating knit and purl rows.",
    "Octopuses can change the colour and texture of their skin to hide from predators.",
    "A mortgage is a loan secured by a house, repaid in monthly instalments over decades.",
    "Lightning is a sudden discharge of static electricity built up inside storm clouds.",
    "The violin has four strings tuned in fifths and is played with a horsehair bow.",
    "Composting kitchen scraps with dry leaves produces rich humus for the garden.",
    "Penguins huddle together through the Antarctic winter to conserve body heat.",
    "A cold brake disc squeals less after the pads are bedded in with gentle stops.",
    "The printing press of Gutenberg made books cheaper and spread literacy across Europe.",
    "Table tennis players put topspin on the ball by brushing upward across it.",
    "Desalination plants remove salt from seawater by reverse osmosis through membranes.",
]
# (source passage, query): the first 24 train, the last 8 dev.
QUERIES = [
    (0, "how does sourdough starter make bread rise"),
    (1, "how do plants make sugar from sunlight"),
    (2, "why do volcanoes erupt"),
    (3, "how did romans bring water to cities"),
    (4, "what is the bee waggle dance for"),
    (5, "my bike chain keeps skipping"),
    (6, "what is compound interest"),
    (7, "best chess opening to control the centre"),
    (8, "what causes ocean tides"),
    (9, "how to repot a cactus safely"),
    (10, "how long is a marathon"),
    (11, "how do vaccines work"),
    (12, "how do jazz players improvise"),
    (13, "how are glacial valleys formed"),
    (14, "python list comprehension example"),
    (15, "how is espresso made"),
    (16, "how do solar panels generate electricity"),
    (17, "why was the great wall of china built"),
    (18, "effects of not getting enough sleep"),
    (19, "how to start knitting a scarf"),
    (20, "how do octopus camouflage themselves"),
    (21, "what is a home loan"),
    (22, "what causes lightning in a storm"),
    (23, "how many strings does a violin have"),
    (24, "what can I compost from the kitchen"),
    (25, "how do penguins stay warm in winter"),
    (26, "why are my new brakes squealing"),
    (27, "who invented the printing press"),
    (28, "how to hit topspin in ping pong"),
    (29, "how to turn sea water into drinking water"),
    (2, "what pushes lava out of the ground"),
    (16, "photovoltaic cells explained"),
]
N_TRAIN = 24
STEPS_PER_EPOCH = 3  # 24 training queries, batch_size 8
MAX_STEPS = 6


@pytest.fixture(scope="module")
def student_dir() -> Path:
    folder = cached_model_dir(DEFAULT_STUDENT)
    # The resolver writes its manifest last, so a folder with one is complete.
    needed = [".specialize-model.json", "config.json", "tokenizer.json", "modules.json", "model.safetensors"]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        pytest.fail(
            f"The default student {DEFAULT_STUDENT} is not in Specialize's model cache: {folder} lacks "
            f"{', '.join(missing)}. Run `bash scripts/setup.sh` (it runs `specialize models prepare`), with the "
            "same SPECIALIZE_HOME / XDG_CACHE_HOME as these tests.",
            pytrace=False,
        )
    return folder


class Ctx:
    """What a handler needs from a RequestContext: a cancel token and a progress recorder."""

    def __init__(self) -> None:
        self.token = CancelToken()
        self.records: list[dict[str, Any]] = []

    def progress(self, stage, step, total, **fields):
        self.records.append({"stage": stage, "step": step, "total": total, **fields})


def write_run(run_dir: Path, seed: int = 0) -> Path:
    rng = random.Random(seed)
    run_dir.mkdir(parents=True)
    lines = [json.dumps({"id": f"p{i}", "text": text}) for i, text in enumerate(PASSAGES)]
    (run_dir / "passages.jsonl").write_text("\n".join(lines) + "\n")
    rows = []
    for n, (source, text) in enumerate(QUERIES):
        others = rng.sample([p for p in range(len(PASSAGES)) if p != source], 5)
        scores = [1.0] + sorted((round(rng.uniform(0.0, 0.5), 3) for _ in others), reverse=True)
        candidates = [f"p{source}"] + [f"p{o}" for o in others]
        rows.append(json.dumps({"qid": f"q{n}", "query": text, "candidates": candidates, "scores": scores}))
    (run_dir / "train.jsonl").write_text("\n".join(rows[:N_TRAIN]) + "\n")
    (run_dir / "dev.jsonl").write_text("\n".join(rows[N_TRAIN:]) + "\n")
    return run_dir


def train_params(run_dir: Path, student: Path, **overrides) -> dict[str, Any]:
    base = {
        "run_dir": str(run_dir),
        "student": str(student),
        "batch_size": 8,
        "micro_batch": 4,
        "lr": 1e-3,
        "max_steps": MAX_STEPS,
        "device": "cpu",
    }
    return {**base, **overrides}


def dev_texts() -> list[str]:
    dev = QUERIES[N_TRAIN:]
    return [text for _, text in dev] + [PASSAGES[source] for source, _ in dev]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, student_dir):
    """One uninterrupted run of MAX_STEPS steps: the reference of the loss, resume and export tests.

    It checkpoints only at its dev evaluations and at the end (checkpoint_every is not a setting a resumed run
    must share), so the resume test also shows that checkpointing every step does not change the result.
    """
    run_dir = write_run(tmp_path_factory.mktemp("real") / "run")
    ctx = Ctx()
    result = train_run(train_params(run_dir, student_dir), ctx)
    return run_dir, result, ctx.records


def test_training_lowers_the_dev_loss_of_the_real_student(trained, student_dir):
    run_dir, result, records = trained
    assert result["stopped"] == "max_steps"
    assert result["steps"] == MAX_STEPS
    assert result["steps_per_epoch"] == STEPS_PER_EPOCH
    assert result["warmup_steps"] == 10
    assert result["resumed_from_step"] is None
    # Dev before epoch 0 (the untouched student), before epoch 1, and after the last step.
    losses = result["dev_losses"]
    assert len(losses) == 3
    assert all(np.isfinite(losses))
    assert result["best_dev_loss"] == min(losses)
    assert losses[-1] < losses[0]
    # Not noise: 6 steps take off more than a quarter of it.
    assert result["best_dev_loss"] < 0.75 * losses[0]
    train = [r for r in records if r["stage"] == "train"]
    assert [r["step"] for r in train] == list(range(1, MAX_STEPS + 1))
    assert [r["lr"] for r in train] == pytest.approx([1e-3 * s / 10 for s in range(1, MAX_STEPS + 1)])
    assert all(set(r["loss"]) == {"total", "listwise", "contrastive"} for r in train)
    # The output is the tuned model, not a copy of the student.
    tuned = load_file(run_dir / "student" / "model.safetensors")
    original = load_file(student_dir / "model.safetensors")
    assert tuned.keys() <= original.keys()  # the hub's file also holds the position_ids buffer
    assert any(not torch.equal(tuned[name], original[name]) for name in tuned)


def test_early_stopping_keeps_the_best_model(tmp_path, student_dir):
    run_dir = write_run(tmp_path / "run")
    # lr 1e-2 still helps in epoch 0 (steps at lr 1e-3 to 3e-3) and then overshoots (4e-3 to 6e-3 in epoch 1),
    # so the dev loss rises and patience 1 stops the run; 30 epochs is the method's maximum.
    result = train_run(train_params(run_dir, student_dir, lr=1e-2, patience=1, max_steps=None), Ctx())
    assert result["stopped"] == "early"
    assert result["epochs"] < 30
    assert result["steps"] == result["epochs"] * STEPS_PER_EPOCH
    losses = result["dev_losses"]
    assert len(losses) == result["epochs"] + 1
    assert result["best_dev_loss"] == min(losses)
    assert losses[-1] > result["best_dev_loss"]
    state = json.loads((run_dir / "checkpoints" / "last" / "train_state.json").read_text())["state"]
    assert state["step"] == result["steps"]
    assert state["best_step"] == losses.index(result["best_dev_loss"]) * STEPS_PER_EPOCH < result["steps"]

    # The output folder holds the best model, not the last: its dev loss, measured by a fresh run that
    # starts from it (an lr far below float32 resolution leaves the weights as they are), is the best one.
    check_dir = tmp_path / "check"
    shutil.copytree(run_dir, check_dir, ignore=shutil.ignore_patterns("checkpoints", "student"))
    check = train_run(train_params(check_dir, run_dir / "student", lr=1e-12, max_steps=1), Ctx())
    assert check["dev_losses"][0] == pytest.approx(result["best_dev_loss"], rel=1e-5)
    assert check["dev_losses"][0] != pytest.approx(losses[-1], rel=1e-3)


def is_train_progress(message: dict) -> bool:
    if message.get("method") != "progress":
        return False
    return message["params"].get("method") == "train/run" and message["params"].get("stage") == "train"


def checkpoint_step(run_dir: Path) -> int:
    """The step of the checkpoint a resumed run starts from (``last``, or ``last.old`` mid-rewrite)."""
    for name in ("last", "last.old"):
        meta = run_dir / "checkpoints" / name / "train_state.json"
        if meta.is_file() and (meta.parent / "state.pt").is_file():
            return json.loads(meta.read_text())["state"]["step"]
    raise AssertionError(f"no checkpoint in {run_dir / 'checkpoints'}: {os.listdir(run_dir / 'checkpoints')}")


def test_a_run_killed_with_sigkill_resumes_from_its_checkpoint(tmp_path, trained, student_dir):
    reference_dir, reference, _ = trained
    run_dir = write_run(tmp_path / "run")
    params = train_params(run_dir, student_dir, checkpoint_every=1)
    kill_after = 2  # mid-epoch 0: the resumed run continues inside an epoch

    first = ServerProcess(stderr_path=tmp_path / "first.stderr")
    try:
        request_id = first.request("train/run", params)
        # A response instead (the run failed or ended early) stops the wait too; the asserts below report it.
        first.wait_for(
            lambda m: m.get("id") == request_id or (is_train_progress(m) and m["params"]["step"] >= kill_after),
            timeout=REQUEST_TIMEOUT,
        )
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(30) == -signal.SIGKILL
    finally:
        first.close()
    # Killed mid-run: no result came back and no output model was written.
    assert not any("method" not in m for m in first.seen), first.seen[-1]
    assert not (run_dir / "student").exists()
    killed_at = checkpoint_step(run_dir)
    assert kill_after <= killed_at < MAX_STEPS

    second = ServerProcess(stderr_path=tmp_path / "second.stderr")
    try:
        response = second.response(second.request("train/run", params), timeout=REQUEST_TIMEOUT)
    finally:
        second.close()
    assert "error" not in response, response["error"]
    result = response["result"]
    assert result["resumed_from_step"] == killed_at
    assert [m["params"]["step"] for m in second.seen if is_train_progress(m)] == list(
        range(killed_at + 1, MAX_STEPS + 1)
    )
    # It ends where the uninterrupted run ended: same steps, same dev losses, same weights (CPU is deterministic).
    assert result["stopped"] == reference["stopped"] == "max_steps"
    assert result["steps"] == reference["steps"] == MAX_STEPS
    assert result["dev_losses"] == pytest.approx(reference["dev_losses"], rel=1e-6)
    assert result["best_dev_loss"] == pytest.approx(reference["best_dev_loss"], rel=1e-6)
    expected = load_file(reference_dir / "student" / "model.safetensors")
    actual = load_file(run_dir / "student" / "model.safetensors")
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-5, atol=1e-6)


def test_export_of_the_tuned_real_student_has_parity(trained, student_dir):
    run_dir, _, _ = trained
    result = model_export({"run_dir": str(run_dir)}, Ctx())
    out = run_dir / "export"
    fp32, int8 = out / "onnx" / "model.onnx", out / "onnx" / "model_int8.onnx"
    assert result["fp32"]["path"] == str(fp32) and fp32.is_file()
    assert result["int8"]["path"] == str(int8) and int8.is_file()
    assert result["fp32"]["min_cosine"] >= 0.9999 and result["fp32"]["passed"] is True
    assert result["int8"]["mean_cosine"] >= 0.99 and result["int8"]["min_cosine"] >= 0.97
    assert result["int8"]["passed"] is True
    report = json.loads((out / "onnx" / "export.json").read_text())
    assert report["fp32"]["min_cosine"] == result["fp32"]["min_cosine"]
    assert report["int8"]["mean_cosine"] == result["int8"]["mean_cosine"]
    for name in ("config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (out / name).is_file(), name
    assert not list(out.glob("*.safetensors"))

    # Checked independently of the report, on the dev texts: the ONNX model embeds like the tuned student
    # (MiniLM: mean pooling, normalised, no prompts), and unlike the untouched one.
    texts = dev_texts()
    encoded = AutoTokenizer.from_pretrained(str(out))(texts, padding=True, return_tensors="np")
    session = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    feeds = {i.name: encoded[i.name].astype(np.int64) for i in session.get_inputs()}
    onnx_emb = pool(session.run(["last_hidden_state"], feeds)[0], encoded["attention_mask"], "mean", True)
    tuned = SentenceTransformer(str(run_dir / "student"), device="cpu").encode(texts, convert_to_numpy=True)
    original = SentenceTransformer(str(student_dir), device="cpu").encode(texts, convert_to_numpy=True)
    to_tuned, to_original = cosine_rows(onnx_emb, tuned), cosine_rows(onnx_emb, original)
    assert to_tuned.min() >= 0.9999
    assert to_original.mean() < 0.99, to_original
