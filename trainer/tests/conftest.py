import pytest

from specialize_trainer.tiny_model import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random BERT sentence-transformers model with a query prompt."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", pooling="mean", query_prompt="query: ")


@pytest.fixture(scope="session")
def tiny_cls_model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-cls") / "model", pooling="cls", seed=3)
