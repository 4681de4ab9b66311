"""Where Specialize keeps its models, seen from Python (the same rules as ``src/core/util/paths.ts``).

Example::

    student = cached_model_dir("sentence-transformers/all-MiniLM-L6-v2")
"""

from __future__ import annotations

import os
from pathlib import Path


def specialize_home() -> Path:
    """Specialize's cache root: ``SPECIALIZE_HOME``, else ``$XDG_CACHE_HOME/specialize``, else ``~/.cache/specialize``."""
    if os.environ.get("SPECIALIZE_HOME"):
        return Path(os.environ["SPECIALIZE_HOME"]).resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "specialize"


def cached_model_dir(model_id: str, revision: str = "main") -> Path:
    """The folder the model resolver (``src/core/models/resolver.ts``) keeps a hub model in."""
    return specialize_home() / "hub" / f"{model_id.replace('/', '--')}@{revision}"
