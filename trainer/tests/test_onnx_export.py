import json

import numpy as np
import onnxruntime as ort
import pytest
from transformers import AutoTokenizer

from specialize_trainer import onnx_export
from specialize_trainer.onnx_export import ExportError, export_onnx


def test_export_is_faithful_fused_and_quantized(tiny_model_dir, tmp_path):
    report = export_onnx(tiny_model_dir, tmp_path, int8=True)
    assert report["exporter"] == "torchscript"
    assert report["fp32"]["fused"] is True
    assert report["fp32"]["min_cosine"] >= 0.9999
    assert report["int8"]["mean_cosine"] >= 0.99
    assert json.loads((tmp_path / "export.json").read_text()) == report
    assert not (tmp_path / "model.raw.onnx").exists()
    fused_ops = {node.op_type for node in __import__("onnx").load(str(tmp_path / "model.onnx")).graph.node}
    assert "Attention" in fused_ops


def test_exported_graph_takes_any_batch_and_length(tiny_model_dir, tmp_path):
    export_onnx(tiny_model_dir, tmp_path)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    for texts in (["one"], ["a b c d e f g", "x", "retry the job later please"]):
        encoded = tokenizer(texts, padding=True, return_tensors="np")
        feeds = {i.name: encoded[i.name].astype(np.int64) for i in session.get_inputs()}
        (hidden,) = session.run(["last_hidden_state"], feeds)
        assert hidden.shape == (*encoded["input_ids"].shape, 32)


def test_unfaithful_export_is_refused(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_export, "MIN_COSINE_FP32", 1.1)
    with pytest.raises(ExportError, match="fp32 ONNX disagrees with PyTorch"):
        export_onnx(tiny_model_dir, tmp_path)


def test_cli_prints_a_json_report(tiny_model_dir, tmp_path, capsys):
    assert onnx_export.main(["--model", str(tiny_model_dir), "--out", str(tmp_path / "out")]) == 0
    output = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert output["ok"] is True
    assert (tmp_path / "out" / "model.onnx").exists()
