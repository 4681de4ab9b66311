"""Read a sentence-transformers model's text-to-vector conventions from the loaded model."""

from __future__ import annotations

from dataclasses import dataclass

from sentence_transformers import SentenceTransformer

_LEGACY_POOLING_FLAGS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


@dataclass(frozen=True)
class Conventions:
    """How a model pools, normalises, prompts and truncates.

    Args:
        pooling: one of ``cls``, ``mean``, ``max``, ``mean_sqrt_len_tokens``, ``lasttoken``.
        include_prompt: whether prompt tokens take part in pooling.
        normalize: whether the model ends with a Normalize module.
        max_seq_length: tokens per input, special tokens included.
        query_prompt: text prepended to queries.
        passage_prompt: text prepended to passages.
    """

    pooling: str
    include_prompt: bool
    normalize: bool
    max_seq_length: int
    query_prompt: str
    passage_prompt: str


def read_conventions(model: SentenceTransformer) -> Conventions:
    """Collect the conventions of a loaded sentence-transformers model.

    Args:
        model: the loaded model.

    Returns:
        Its :class:`Conventions`.

    Raises:
        ValueError: if the model has no Pooling module or pools several ways at once.
    """
    pooling_config = None
    normalize = False
    for module in model:
        name = type(module).__name__
        if name == "Pooling":
            pooling_config = module.get_config_dict()
        elif name == "Normalize":
            normalize = True
    if pooling_config is None:
        raise ValueError("the model has no Pooling module")
    mode = pooling_config.get("pooling_mode")
    if mode is None:
        modes = [name for flag, name in _LEGACY_POOLING_FLAGS.items() if pooling_config.get(flag)]
    else:
        modes = [mode] if isinstance(mode, str) else list(mode)
    if len(modes) != 1:
        raise ValueError(f"the model pools with {modes}; exactly one mode is supported")
    prompts = model.prompts or {}
    passage_prompt = prompts.get("document", prompts.get("passage", prompts.get("corpus", "")))
    return Conventions(
        pooling=modes[0],
        include_prompt=pooling_config.get("include_prompt", True),
        normalize=normalize,
        max_seq_length=int(model.max_seq_length),
        query_prompt=prompts.get("query", ""),
        passage_prompt=passage_prompt,
    )
