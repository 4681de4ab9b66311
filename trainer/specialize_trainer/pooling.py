"""NumPy pooling that mirrors sentence-transformers' Pooling and Normalize modules."""

from __future__ import annotations

import numpy as np


def pool(token_embeddings: np.ndarray, attention_mask: np.ndarray, mode: str, normalize: bool) -> np.ndarray:
    """Pool token embeddings into one vector per row.

    Args:
        token_embeddings: ``[batch, seq, hidden]`` float array.
        attention_mask: ``[batch, seq]`` array of 0/1 (padding and excluded prompt tokens are 0).
        mode: ``cls``, ``mean``, ``max``, ``mean_sqrt_len_tokens`` or ``lasttoken``.
        normalize: L2-normalise the pooled vectors.

    Returns:
        ``[batch, hidden]`` float32 array.
    """
    mask = attention_mask.astype(np.float64)[..., None]
    tokens = token_embeddings.astype(np.float64)
    if mode == "cls":
        pooled = tokens[:, 0]
    elif mode == "lasttoken":
        last = attention_mask.shape[1] - 1 - np.argmax(attention_mask[:, ::-1], axis=1)
        pooled = tokens[np.arange(tokens.shape[0]), last]
    elif mode == "max":
        pooled = np.where(mask > 0, tokens, -1e9).max(axis=1)
    elif mode in ("mean", "mean_sqrt_len_tokens"):
        counts = np.clip(mask.sum(axis=1), 1e-9, None)
        pooled = (tokens * mask).sum(axis=1) / (counts if mode == "mean" else np.sqrt(counts))
    else:
        raise ValueError(f"unsupported pooling mode {mode!r}")
    if normalize:
        pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return pooled.astype(np.float32)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``[n, d]`` arrays, in float64."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-30)
