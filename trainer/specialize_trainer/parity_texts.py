"""Texts the exporter embeds with both PyTorch and ONNX Runtime to prove the export faithful.

They cover what users index: prose, code, identifiers, punctuation, non-ASCII text, an empty-ish
input and a passage longer than any model's limit (so truncation is exercised too).
"""

PARITY_TEXTS = [
    "How do I rotate an API key without downtime?",
    "The boundary layer separates at high angles of attack, and the lift coefficient drops sharply.",
    "def resolve_model(spec: str, cache_dir: Path) -> ResolvedModel:\n    return _from_cache(spec) or _download(spec)",
    "TypeError: Cannot read properties of undefined (reading 'map')",
    "Kubernetes Pod stuck in CrashLoopBackOff after upgrading the sidecar image",
    "Café naïve résumé — Übergrößenträger, 東京の天気, Ελληνικά",
    "x",
    "SELECT id, title FROM passages WHERE hash <> ? ORDER BY updated_at DESC LIMIT 20;",
    "Recurrent laryngeal nerve palsy after thyroidectomy: incidence and risk factors in 1,200 patients.",
    " ".join(f"token{i} alpha beta gamma delta" for i in range(400)),
]
