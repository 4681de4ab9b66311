"""Which teacher? Each candidate member, and every average of them, reranking the student's top 100.

The teacher's job in tuning is to order a query's candidates; the best measure of a teacher is how well it
reorders the base student's top 100 for human-judged queries. This scores, on a BEIR-layout collection:

- each member alone over the whole corpus (``full``) and as a reranker of the student's top 100;
- every equally weighted average of members, each normalised over the file by the trainer's own P1/P99 rule
  (:func:`specialize_trainer.teacher_norm.normalize_teacher_scores`), as the ensemble teacher does.

Members: the student (all-MiniLM-L6-v2, through sentence-transformers), BAAI/bge-small-en-v1.5 and
e5-small-v2 (int8) through the trainer's ONNX encoder, and BM25 from the collection's reference
implementation (``bm25_reference.py`` next to the datasets; k1 0.9, b 0.4, Lucene analysis).

Example::

    .venv/bin/python bench/teacher_members.py ../shared/datasets/cranfield ../shared/datasets/med
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainer"))

from specialize_trainer.onnx_bi_encoder import OnnxEncoder  # noqa: E402
from specialize_trainer.teacher_norm import normalize_teacher_scores  # noqa: E402

HOME = Path(os.environ.get("SPECIALIZE_HOME", Path.home() / ".cache" / "specialize"))
STUDENT = HOME / "hub" / "sentence-transformers--all-MiniLM-L6-v2@main"
DENSE = {"bge": HOME / "hub" / "BAAI--bge-small-en-v1.5@main", "e5": HOME / "hub" / "Xenova--e5-small-v2-int8@main"}
DEPTH = 100


def load_reference(path: Path):
    spec = importlib.util.spec_from_file_location("bm25_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def encode_onnx(folder: Path, queries: list[str], texts: list[str]) -> np.ndarray:
    encoder = OnnxEncoder(folder)
    corpus = np.concatenate(
        [encoder.encode(texts[i : i + 16], encoder.passage_prompt) for i in range(0, len(texts), 16)]
    )
    asked = np.concatenate(
        [encoder.encode(queries[i : i + 32], encoder.query_prompt) for i in range(0, len(queries), 32)]
    )
    return asked @ corpus.T


def score_collection(dataset: Path, reference) -> dict[str, float]:
    docs = reference.load_jsonl(dataset / "corpus.jsonl")
    texts_by_query = {str(q["_id"]): q["text"] for q in reference.load_jsonl(dataset / "queries.jsonl")}
    qrels = reference.load_qrels(dataset / "qrels" / "test.tsv")
    qids = [qid for qid in qrels if qid in texts_by_query]
    queries = [texts_by_query[qid] for qid in qids]
    ids = [str(doc["_id"]) for doc in docs]
    texts = [((doc.get("title") or "") + " " + (doc.get("text") or "")).strip() for doc in docs]

    from sentence_transformers import SentenceTransformer

    student = SentenceTransformer(str(STUDENT), device="cpu")
    scores = {
        "student": student.encode(queries, normalize_embeddings=True)
        @ student.encode(texts, batch_size=16, normalize_embeddings=True).T
    }
    for name, folder in DENSE.items():
        scores[name] = encode_onnx(folder, queries, texts)
    stemmer = reference.PorterStemmer()

    def analyze(text: str) -> list[str]:
        return [stemmer.stem(t) for t in reference.TOKEN_RE.findall(text.lower()) if t not in reference.STOPWORDS]

    index = reference.BM25(docs, analyze)
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    lexical = np.zeros_like(scores["student"])
    for row, query in enumerate(queries):
        for doc_id, value in index.search(analyze(query), k=len(ids)):
            lexical[row, position[doc_id]] = value
    scores["bm25"] = lexical

    candidates = np.argsort(-scores["student"], axis=1)[:, :DEPTH]
    normalised = {}
    for name, matrix in scores.items():
        values = np.take_along_axis(matrix, candidates, axis=1)
        normalised[name] = normalize_teacher_scores(values.ravel()).reshape(values.shape)

    def ndcg(order: np.ndarray) -> float:
        run = {qid: [(ids[j], 0.0) for j in order[row]] for row, qid in enumerate(qids)}
        return reference.evaluate(run, qrels)["ndcg@10"]

    result = {f"{name} (full corpus)": ndcg(np.argsort(-matrix, axis=1)[:, :DEPTH]) for name, matrix in scores.items()}
    for size in range(1, len(scores) + 1):
        for combo in itertools.combinations(scores, size):
            mean = sum(normalised[name] for name in combo) / size
            order = np.take_along_axis(candidates, np.argsort(-mean, axis=1, kind="stable"), axis=1)
            result["rerank " + "+".join(combo)] = ndcg(order)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--bm25-reference", type=Path, help="default: bm25_reference.py beside the datasets")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reference = load_reference(args.bm25_reference or args.datasets[0].resolve().parent / "bm25_reference.py")
    report = {}
    for dataset in args.datasets:
        started = time.monotonic()
        report[dataset.name] = score_collection(dataset, reference)
        print(f"{dataset.name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    names = list(next(iter(report.values())))
    print("| teacher | " + " | ".join(report) + " |")
    print("|---|" + "---:|" * len(report))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{report[d][name]:.4f}" for d in report) + " |")


if __name__ == "__main__":
    main()
