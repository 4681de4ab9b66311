import json
import math
import random

import pytest
import torch
from sentence_transformers import SentenceTransformer

from specialize_trainer import training
from specialize_trainer.rpc.protocol import InvalidParams, Problem, RequestCancelled
from specialize_trainer.rpc.server import CancelToken
from specialize_trainer.training import lr_lambda, train_run, warmup_steps_for

_TOPICS = [
    "error file model",
    "query passage search",
    "index vector token",
    "embed train teacher",
    "student api key",
    "function class return",
    "import def const",
    "let type string",
    "number data test",
    "run build config",
    "server the of",
    "and to in",
]


class FakeContext:
    """What a handler needs from a RequestContext: a cancel token and a progress recorder."""

    def __init__(self, on_progress=None):
        self.token = CancelToken()
        self.records = []
        self.on_progress = on_progress

    def progress(self, stage, step, total, **fields):
        self.records.append({"stage": stage, "step": step, "total": total, **fields})
        if self.on_progress is not None:
            self.on_progress(self, stage, step)


def write_run(run_dir, n_train=24, n_dev=8, seed=0, nan_at=None):
    """A learnable toy set: each passage is about a topic; its query repeats words of that topic."""
    rng = random.Random(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    passages = []
    for i, topic in enumerate(_TOPICS * 3):
        passages.append({"id": f"p{i}", "text": f"{topic} {topic.split()[i % 3]} is how {i % 7}"})
    (run_dir / "passages.jsonl").write_text("\n".join(json.dumps(p) for p in passages) + "\n")

    def queries(count, offset):
        rows = []
        for q in range(count):
            source = (q + offset) % len(passages)
            words = _TOPICS[source % len(_TOPICS)].split()
            others = rng.sample([p for p in range(len(passages)) if p != source], 5)
            candidates = [f"p{source}"] + [f"p{o}" for o in others]
            scores = [1.0] + sorted((rng.uniform(0.0, 0.5) for _ in others), reverse=True)
            rows.append({"qid": f"q{q + offset}", "query": f"{words[0]} {words[1]}", "candidates": candidates})
            rows[-1]["scores"] = scores
        return rows

    train = queries(n_train, 0)
    if nan_at is not None:
        train[nan_at]["scores"][1] = float("nan")
    (run_dir / "train.jsonl").write_text("\n".join(json.dumps(r) for r in train) + "\n")
    (run_dir / "dev.jsonl").write_text("\n".join(json.dumps(r) for r in queries(n_dev, 5)) + "\n")
    return run_dir


def params(run_dir, model_dir, **overrides):
    base = {
        "run_dir": str(run_dir),
        "student": str(model_dir),
        "batch_size": 8,
        "micro_batch": 4,
        "epochs": 3,
        "lr": 2e-3,
        "device": "cpu",
    }
    return {**base, **overrides}


def final_weights(run_dir):
    saved = torch.load(run_dir / "checkpoints" / "last" / "state.pt", map_location="cpu", weights_only=False)
    return saved["model"]


def test_lr_schedule_values():
    assert warmup_steps_for(3) == 10
    assert warmup_steps_for(30) == 15
    assert warmup_steps_for(31) == 16
    factor = lr_lambda(warmup_steps=10, total_steps=30)
    assert factor(0) == pytest.approx(0.1)
    assert factor(4) == pytest.approx(0.5)
    assert factor(9) == pytest.approx(1.0)
    assert factor(19) == pytest.approx(0.55)
    assert factor(29) == pytest.approx(0.1)
    assert factor(100) == pytest.approx(0.1)
    # As a LambdaLR: the lr used by each step.
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=2e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    used = []
    for _ in range(30):
        used.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert used[0] == pytest.approx(2e-5)
    assert used[9] == pytest.approx(2e-4)
    assert all(a > b for a, b in zip(used[9:], used[10:]))
    assert used[-1] == pytest.approx(2e-5)


def test_training_lowers_the_dev_loss_and_saves_the_best_model(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    ctx = FakeContext()
    result = train_run(params(run_dir, tiny_model_dir, epochs=4, max_steps=9), ctx)
    assert result["stopped"] == "max_steps"
    assert result["steps"] == 9
    assert result["steps_per_epoch"] == 3
    assert result["epochs"] == 3
    # Dev before epochs 0, 1, 2 and after the last step (the end of epoch 2).
    assert len(result["dev_losses"]) == 4
    assert result["dev_losses"][-1] < result["dev_losses"][0]
    assert result["best_dev_loss"] == min(result["dev_losses"])
    assert result["queries_per_second"] > 0
    train_records = [r for r in ctx.records if r["stage"] == "train"]
    assert [r["step"] for r in train_records] == list(range(1, 10))
    assert all(r["total"] == 9 for r in train_records)
    first = train_records[0]
    assert set(first["loss"]) == {"total", "listwise", "contrastive"}
    assert first["lr"] == pytest.approx(2e-3 / 10)
    assert first["throughput_unit"] == "queries" and first["throughput"] > 0 and first["eta_seconds"] >= 0
    model = SentenceTransformer(result["output"], device="cpu")
    assert model.prompts["query"] == "query: "
    assert all(m.p == 0.0 for m in model.modules() if isinstance(m, torch.nn.Dropout))


def test_early_stopping_when_the_dev_loss_stops_improving(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    # An lr far below float32 resolution leaves the weights, hence the dev loss, unchanged.
    result = train_run(params(run_dir, tiny_model_dir, lr=1e-12, epochs=30, patience=2), FakeContext())
    assert result["stopped"] == "early"
    assert result["epochs"] == 2
    assert result["steps"] == 6
    assert len(result["dev_losses"]) == 3
    assert result["best_dev_loss"] == result["dev_losses"][0]


def test_max_epochs(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run", n_train=8)
    result = train_run(params(run_dir, tiny_model_dir, epochs=2), FakeContext())
    assert result["stopped"] in ("max_epochs", "early")
    assert result["steps"] == result["epochs"] * result["steps_per_epoch"]


def _cancel_at(step):
    def on_progress(ctx, stage, at):
        if stage == "train" and at == step:
            ctx.token.cancel()

    return on_progress


def _crash_at(step):
    def on_progress(ctx, stage, at):
        if stage == "train" and at == step:
            raise RuntimeError("simulated crash")

    return on_progress


@pytest.mark.parametrize("interrupt", ["cancel", "crash"])
def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path, tiny_model_dir, interrupt):
    straight_dir = write_run(tmp_path / "straight")
    straight = train_run(params(straight_dir, tiny_model_dir, max_steps=7, checkpoint_every=2), FakeContext())

    resumed_dir = write_run(tmp_path / "resumed")
    if interrupt == "cancel":
        with pytest.raises(RequestCancelled):
            train_run(
                params(resumed_dir, tiny_model_dir, max_steps=7, checkpoint_every=100), FakeContext(_cancel_at(2))
            )
    else:
        # Crashes at step 5; the checkpoint of step 4 survives.
        with pytest.raises(RuntimeError, match="simulated"):
            train_run(params(resumed_dir, tiny_model_dir, max_steps=7, checkpoint_every=2), FakeContext(_crash_at(5)))
    ctx = FakeContext()
    resumed = train_run(params(resumed_dir, tiny_model_dir, max_steps=7, checkpoint_every=2), ctx)
    assert resumed["resumed_from_step"] == (2 if interrupt == "cancel" else 4)
    assert resumed["steps"] == straight["steps"] == 7
    assert resumed["dev_losses"] == pytest.approx(straight["dev_losses"])
    expected, actual = final_weights(straight_dir), final_weights(resumed_dir)
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-5, atol=1e-6)
    assert min(r["step"] for r in ctx.records if r["stage"] == "train") == resumed["resumed_from_step"] + 1


def test_resume_refuses_changed_settings(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    train_run(params(run_dir, tiny_model_dir, max_steps=1), FakeContext())
    with pytest.raises(Problem, match="batch_size"):
        train_run(params(run_dir, tiny_model_dir, max_steps=2, batch_size=4), FakeContext())


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    run_dir = write_run(tmp_path / "run")
    poisoned = {"on": False}
    real_loss = training.combined_loss

    def loss(*args, **kwargs):
        terms = real_loss(*args, **kwargs)
        return training.LossTerms(terms.total * math.nan) if poisoned["on"] else terms

    def poison_after_step_2(ctx, stage, step):
        if stage == "train" and step == 2:
            poisoned["on"] = True

    monkeypatch.setattr(training, "combined_loss", loss)
    with pytest.raises(Problem, match="nan at step 3") as info:
        train_run(params(run_dir, tiny_model_dir, checkpoint_every=2), FakeContext(poison_after_step_2))
    assert "last good checkpoint (step 2)" in info.value.message
    state = json.loads((run_dir / "checkpoints" / "last" / "train_state.json").read_text())
    assert state["state"]["step"] == 2
    assert all(torch.isfinite(t).all() for t in final_weights(run_dir).values() if t.is_floating_point())


def test_nan_teacher_score_in_the_file_names_file_and_line(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run", nan_at=4)
    with pytest.raises(Problem, match=r"train\.jsonl, line 5: scores must be finite"):
        train_run(params(run_dir, tiny_model_dir), FakeContext())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "has no queries"),
        ('{"qid": "a", "query": "x", "candidates": ["p0"], "scores": [1.0]}\nnot json\n', "line 2: not valid JSON"),
        ('{"qid": "a", "query": "x", "candidates": ["p0", "p1"], "scores": [1.0]}\n', "line 1: scores must be"),
        ('{"qid": "a", "query": "x", "candidates": ["nope"], "scores": [1.0]}\n', "line 1: candidate 'nope'"),
    ],
)
def test_malformed_training_file(tmp_path, tiny_model_dir, content, expected):
    run_dir = write_run(tmp_path / "run")
    (run_dir / "train.jsonl").write_text(content)
    with pytest.raises(Problem, match=expected) as info:
        train_run(params(run_dir, tiny_model_dir), FakeContext())
    assert "train.jsonl" in info.value.message
    assert info.value.data["fix"]


def test_infonce_mode_runs(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    ctx = FakeContext()
    result = train_run(params(run_dir, tiny_model_dir, mode="infonce", max_steps=2, output="infonce"), ctx)
    assert result["steps"] == 2
    assert result["output"].endswith("infonce")
    losses = [r["loss"] for r in ctx.records if r["stage"] == "train"]
    assert all(set(loss) == {"total", "contrastive"} for loss in losses)


def test_invalid_params(tmp_path, tiny_model_dir):
    with pytest.raises(InvalidParams, match="student"):
        train_run({"run_dir": str(tmp_path)}, FakeContext())
    with pytest.raises(InvalidParams, match="mode"):
        train_run(params(tmp_path, tiny_model_dir, mode="margin"), FakeContext())
    with pytest.raises(InvalidParams, match="batch_size"):
        train_run(params(tmp_path, tiny_model_dir, batch_size=0), FakeContext())
    with pytest.raises(InvalidParams, match="does not take"):
        train_run(params(tmp_path, tiny_model_dir, learning_rate=1.0), FakeContext())


def test_register_training_replaces_the_stub():
    registered = {}

    class FakeServer:
        def register(self, method, handler):
            registered[method] = handler

    training.register_training(FakeServer())
    assert registered == {"train/run": train_run}


def test_out_of_memory_halves_the_micro_batch_and_trains_the_same_model(tmp_path, tiny_model_dir, monkeypatch):
    # 8 queries x 6 candidates = 48 passages per batch; passes of more than 30 texts "run out of memory"
    # (injected: a real out-of-memory cannot be produced on demand), so micro_batch 8 -> 4 -> 2 -> 1 fits.
    straight_dir = write_run(tmp_path / "straight")
    straight = train_run(params(straight_dir, tiny_model_dir, micro_batch=1, max_steps=4), FakeContext())
    monkeypatch.setenv(training.INJECT_OOM_ENV, "30")
    halved_dir = write_run(tmp_path / "halved")
    halved = train_run(params(halved_dir, tiny_model_dir, micro_batch=8, max_steps=4), FakeContext())
    assert halved["micro_batch"] == 1 and straight["micro_batch"] == 1
    assert halved["steps"] == straight["steps"] == 4
    for a, b in zip(halved["dev_losses"], straight["dev_losses"]):
        assert a == pytest.approx(b, rel=1e-6)
    expected, actual = final_weights(straight_dir), final_weights(halved_dir)
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-5, atol=1e-6)


def test_out_of_memory_at_micro_batch_1_names_the_size_that_fit(tmp_path, tiny_model_dir, monkeypatch):
    run_dir = write_run(tmp_path / "run")
    train_run(params(run_dir, tiny_model_dir, micro_batch=2, max_steps=2), FakeContext())
    before = (run_dir / "checkpoints" / "last" / "state.pt").read_bytes()
    # Now nothing fits: even one query's 6 candidates are more than 5 texts.
    monkeypatch.setenv(training.INJECT_OOM_ENV, "5")
    with pytest.raises(Problem, match="out of memory even with micro_batch 1") as info:
        train_run(params(run_dir, tiny_model_dir, micro_batch=2, max_steps=4), FakeContext())
    assert "no micro-batch completed" in info.value.message
    assert (run_dir / "checkpoints" / "last" / "state.pt").read_bytes() == before


def test_a_checkpoint_from_another_version_is_refused_and_kept(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    train_run(params(run_dir, tiny_model_dir, max_steps=1), FakeContext())
    meta_path = run_dir / "checkpoints" / "last" / "train_state.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = training.CHECKPOINT_FORMAT + 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(Problem, match="another version of the trainer") as info:
        train_run(params(run_dir, tiny_model_dir, max_steps=2), FakeContext())
    assert f"format {training.CHECKPOINT_FORMAT + 1}" in info.value.message
    assert "Delete" in info.value.data["fix"]
    assert json.loads(meta_path.read_text()) == meta


def test_the_micro_batch_left_to_the_trainer_is_larger_on_a_gpu_for_one_process():
    from specialize_trainer.training import default_micro_batch

    assert default_micro_batch(torch.device("cpu"), distributed_run=False) == 16
    assert default_micro_batch(torch.device("cuda", 0), distributed_run=False) == 64
    # A rank cannot halve alone on out-of-memory, so torchrun ranks keep the method's 16.
    assert default_micro_batch(torch.device("cuda", 1), distributed_run=True) == 16


def test_a_run_without_micro_batch_uses_the_devices_default(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run", n_train=8, n_dev=2)
    settings = {k: v for k, v in params(run_dir, tiny_model_dir, epochs=1).items() if k != "micro_batch"}
    result = train_run(settings, FakeContext())
    assert result["micro_batch"] == 16  # the CPU's
