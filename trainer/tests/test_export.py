import json
import shutil
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import pytest
from transformers import AutoTokenizer

from specialize_trainer import onnx_export
from specialize_trainer.export import model_export, register_export
from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.protocol import InvalidParams, Problem, RequestCancelled
from specialize_trainer.rpc.server import CancelToken


class Ctx:
    """The parts of RequestContext a handler uses: a cancel token and progress notifications."""

    def __init__(self) -> None:
        self.token = CancelToken()
        self.events = []

    def progress(self, stage, step, total, **fields):
        self.events.append(SimpleNamespace(stage=stage, step=step, total=total, **fields))


@pytest.fixture
def run_dir(tiny_model_dir, tmp_path):
    """A run dir as train/run leaves it: the tuned student in ``student/``."""
    shutil.copytree(tiny_model_dir, tmp_path / "student")
    return tmp_path


def test_export_writes_an_engine_folder_and_reports_parity(run_dir):
    ctx = Ctx()
    result = model_export({"run_dir": str(run_dir)}, ctx)

    out = run_dir / "export"
    assert result["output"] == str(out)
    assert result["model_dir"] == str(run_dir / "student")
    assert result["fp32"]["path"] == str(out / "onnx" / "model.onnx")
    assert result["int8"]["path"] == str(out / "onnx" / "model_int8.onnx")
    assert result["fp32"]["min_cosine"] >= 0.9999 and result["fp32"]["passed"] is True
    assert result["fp32"]["thresholds"] == {"min": 0.9999}
    assert result["int8"]["mean_cosine"] >= 0.99 and result["int8"]["passed"] is True
    assert result["int8"]["thresholds"] == {"mean": 0.99, "min": 0.97}
    assert result["exporter"] == "torchscript" and result["fp32"]["fused"] is True
    json.dumps(result)  # travels as JSON
    report = json.loads((out / "onnx" / "export.json").read_text())
    assert report["fp32"]["min_cosine"] == result["fp32"]["min_cosine"]
    assert result["report"] == str(out / "onnx" / "export.json")

    # Configs and tokenizer beside the ONNX files, no PyTorch weights: the engine loads the ONNX directly.
    for name in ("config.json", "tokenizer.json", "modules.json", "config_sentence_transformers.json"):
        assert (out / name).is_file(), name
    assert (out / "1_Pooling" / "config.json").is_file()
    assert not list(out.glob("*.safetensors"))
    assert (run_dir / "student" / "model.safetensors").is_file()
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]

    assert [(e.stage, e.step, e.total) for e in ctx.events] == [("export", 0, 1), ("export", 1, 1)]
    assert "fp32 min cosine" in ctx.events[-1].message

    session = ort.InferenceSession(result["int8"]["path"], providers=["CPUExecutionProvider"])
    encoded = AutoTokenizer.from_pretrained(str(out))(["query: how to retry"], return_tensors="np")
    feeds = {i.name: encoded[i.name].astype(np.int64) for i in session.get_inputs()}
    assert session.run(["last_hidden_state"], feeds)[0].shape[-1] == 32


def test_fp32_only_and_named_folders(run_dir):
    shutil.move(run_dir / "student", run_dir / "tuned")
    result = model_export({"run_dir": str(run_dir), "model": "tuned", "output": "onnx-out", "int8": False}, Ctx())
    assert result["int8"] is None
    assert (run_dir / "onnx-out" / "onnx" / "model.onnx").is_file()
    assert not (run_dir / "onnx-out" / "onnx" / "model_int8.onnx").exists()


def test_missing_student_is_a_problem_with_a_fix(tmp_path):
    with pytest.raises(Problem, match="not a sentence-transformers model folder") as caught:
        model_export({"run_dir": str(tmp_path)}, Ctx())
    assert "train/run" in caught.value.data["fix"]
    with pytest.raises(Problem, match="does not exist"):
        model_export({"run_dir": str(tmp_path / "nope")}, Ctx())


@pytest.mark.parametrize(
    "params, match",
    [
        ({}, "needs run_dir"),
        ({"run_dir": "x", "model": "../elsewhere"}, "model must be a folder name"),
        ({"run_dir": "x", "output": ""}, "output must be a folder name"),
        ({"run_dir": "x", "model": "a", "output": "a"}, "must differ"),
        ({"run_dir": "x", "int8": "yes"}, "int8 must be true or false"),
        ({"run_dir": "x", "quantize": True}, "does not take quantize"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(InvalidParams, match=match):
        model_export(params, Ctx())


def test_refused_export_keeps_the_previous_one(run_dir, monkeypatch):
    (run_dir / "export").mkdir()
    (run_dir / "export" / "previous").write_text("kept")
    monkeypatch.setattr(onnx_export, "MIN_COSINE_FP32", 1.1)
    with pytest.raises(Problem, match="refused: fp32 ONNX disagrees with PyTorch") as caught:
        model_export({"run_dir": str(run_dir), "int8": False}, Ctx())
    assert caught.value.data["fix"]
    assert (run_dir / "export" / "previous").read_text() == "kept"
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]


def test_cancelled_before_start(run_dir):
    ctx = Ctx()
    ctx.token.cancel()
    with pytest.raises(RequestCancelled):
        model_export({"run_dir": str(run_dir)}, ctx)
    assert not (run_dir / "export").exists()


def test_register_export():
    registered = {}
    register_export(SimpleNamespace(register=lambda method, handler: registered.update({method: handler})))
    assert registered == {protocol.MODEL_EXPORT: model_export}


def test_an_onnx_only_folder_scores_like_the_pytorch_model_as_a_teacher(run_dir, tiny_model_dir):
    # An export has ONNX weights and configs but no PyTorch weights, like a model shipped in a Maven jar.
    from specialize_trainer.onnx_bi_encoder import is_onnx_only
    from specialize_trainer.teacher import BiEncoderScorer, OnnxBiEncoderScorer, load_scorer

    model_export({"run_dir": str(run_dir), "int8": False}, Ctx())
    folder = run_dir / "export"
    assert is_onnx_only(folder) and not is_onnx_only(tiny_model_dir)
    scorer = load_scorer({"kind": "bi-encoder", "model": str(folder)}, "cpu")
    assert isinstance(scorer, OnnxBiEncoderScorer)
    # The tiny model's query prompt comes from its config, as sentence-transformers reads it.
    assert scorer.query_prompt == "query: "
    pairs = [
        ("how to build the index", "the index is built from every passage"),
        ("api key error", "a missing api key raises an error when the server starts"),
        ("how to build the index", "the teacher scores each query and passage pair"),
        ("x", "a"),
    ]
    onnx_scores = scorer.score(pairs)
    torch_scores = BiEncoderScorer(str(tiny_model_dir), "cpu").score(pairs)
    np.testing.assert_allclose(onnx_scores, torch_scores, atol=1e-5)


def test_an_onnx_teacher_asked_for_cuda_without_the_provider_warns_and_runs_on_the_cpu(run_dir, caplog):
    import onnxruntime as ort

    from specialize_trainer.onnx_bi_encoder import OnnxEncoder

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has the CUDA provider; the warning is for the CPU-only build")
    model_export({"run_dir": str(run_dir), "int8": False}, Ctx())
    with caplog.at_level("WARNING", logger="specialize_trainer.onnx_bi_encoder"):
        encoder = OnnxEncoder(run_dir / "export", "cuda")
    assert encoder.session.get_providers() == ["CPUExecutionProvider"]
    assert "onnxruntime has no CUDA provider" in caplog.text and "install onnxruntime-gpu" in caplog.text
    assert encoder.encode(["a passage"]).shape[0] == 1
