"""Python side of Specialize: ONNX export and reference embeddings (teacher scoring and listwise
distillation arrive with the trainer process)."""

__version__ = "0.1.0"
