import numpy as np
import pytest
import torch
from sentence_transformers.sentence_transformer.modules import Pooling

from specialize_trainer.pooling import cosine_rows, pool


@pytest.mark.parametrize("mode", ["cls", "mean", "max", "mean_sqrt_len_tokens", "lasttoken"])
def test_pool_matches_sentence_transformers(mode):
    rng = np.random.default_rng(0)
    tokens = rng.normal(size=(3, 5, 8)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    reference = Pooling(8, pooling_mode=mode)(
        {"token_embeddings": torch.tensor(tokens), "attention_mask": torch.tensor(mask)}
    )["sentence_embedding"].numpy()
    np.testing.assert_allclose(pool(tokens, mask, mode, normalize=False), reference, rtol=1e-5, atol=1e-6)


def test_normalize_and_cosine():
    vectors = pool(np.ones((1, 2, 4), dtype=np.float32) * 3, np.ones((1, 2)), "mean", normalize=True)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0], rtol=1e-6)
    assert cosine_rows(vectors, vectors * 5)[0] == pytest.approx(1.0)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unsupported pooling mode"):
        pool(np.zeros((1, 1, 2)), np.ones((1, 1)), "weightedmean", normalize=False)
