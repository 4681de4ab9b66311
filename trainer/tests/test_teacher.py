import io
import json
import logging

import numpy as np
import pytest
import torch
from sentence_transformers import CrossEncoder, SentenceTransformer
from transformers import AutoTokenizer, BertForSequenceClassification

from specialize_trainer import teacher
from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.framing import MessageReader, MessageWriter
from specialize_trainer.rpc.protocol import Problem, RequestCancelled
from specialize_trainer.rpc.server import RequestContext, Server, register_default_handlers
from specialize_trainer.teacher_norm import normalize_teacher_scores
from specialize_trainer.tiny_model import tiny_bert_config

WORDS = "the error file model query passage search index vector token embed train teacher api key".split()
QUERIES = [
    ("q1", "how do I train a model", "question", ["p0", "p1", "p2", "p3"]),
    ("q2", "api key error", "keywords", ["p4", "p0", "p5"]),
    ("q3", "search the index", "question", ["p2", "p6", "p7", "p1"]),
    ("q4", "vector embed", "keywords", ["p3", "p5", "p8"]),
    ("q5", "teacher token file", "question", ["p8", "p9", "p4", "p6", "p0"]),
]


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory, tiny_model_dir):
    """A tiny random BERT cross-encoder (one label) with the tiny model's tokenizer."""
    out = tmp_path_factory.mktemp("tiny-ce") / "model"
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    torch.manual_seed(1)
    config = tiny_bert_config(tokenizer.vocab_size, initializer_range=0.5, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def write_run(run_dir, queries=QUERIES, lexical=None):
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with open(run_dir / teacher.PASSAGES_FILE, "w") as file:
        for i in range(10):
            text = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 25))))
            file.write(json.dumps({"id": f"p{i}", "text": text}) + "\n")
    with open(run_dir / teacher.INPUT_FILE, "w") as file:
        for qid, query, kind, candidates in queries:
            record = {"qid": qid, "query": query, "type": kind, "candidates": candidates}
            if lexical is not None:
                record["lexical"] = lexical[qid]
            file.write(json.dumps(record) + "\n")
    return run_dir


def read_output(run_dir):
    lines = (run_dir / teacher.OUTPUT_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines]


def passages_of(run_dir):
    return teacher.read_passages(run_dir / teacher.PASSAGES_FILE)


def pairs_of(run_dir):
    passages = passages_of(run_dir)
    return [(query, passages[c]) for _, query, _, candidates in QUERIES for c in candidates]


def make_context():
    """A real RequestContext on a Server that writes to memory; returns it and a notification reader."""
    buffer = io.BytesIO()
    server = Server(MessageReader(io.BytesIO()), MessageWriter(buffer))
    register_default_handlers(server)
    teacher.register_teacher(server)
    context = RequestContext(server=server, id=7, method=protocol.TEACHER_SCORE)

    def notifications():
        reader = MessageReader(io.BytesIO(buffer.getvalue()))
        return list(iter(reader.read, None))

    return context, notifications


class CountingLoader:
    """Loads real scorers and counts the pairs they score; optionally cancels after some calls."""

    def __init__(self, token=None, cancel_after=None):
        self.pairs = 0
        self.calls = 0
        self.token = token
        self.cancel_after = cancel_after

    def __call__(self, spec, device):
        scorer = teacher.load_scorer(spec, device)
        outer = self

        class Counting:
            def score(self, pairs, given=None):
                outer.calls += 1
                outer.pairs += len(pairs)
                if outer.cancel_after is not None and outer.calls >= outer.cancel_after:
                    outer.token.cancel()
                return scorer.score(pairs, given)

        return Counting()


def expected_scores(raw_by_query):
    """Per-type normalisation computed independently of the module."""
    result = {}
    for kind in {kind for _, _, kind, _ in QUERIES}:
        qids = [qid for qid, _, k, _ in QUERIES if k == kind]
        values = normalize_teacher_scores(np.concatenate([raw_by_query[qid] for qid in qids]))
        bounds = np.cumsum([0] + [len(raw_by_query[qid]) for qid in qids])
        for i, qid in enumerate(qids):
            result[qid] = values[bounds[i] : bounds[i + 1]]
    return result


def split_by_query(values):
    bounds = np.cumsum([0] + [len(c) for _, _, _, c in QUERIES])
    return {qid: values[bounds[i] : bounds[i + 1]] for i, (qid, _, _, _) in enumerate(QUERIES)}


def test_length_sorted_batches_are_by_length_and_order_is_restored():
    rng = np.random.default_rng(1)
    pairs = [("q" * int(rng.integers(1, 9)), "p" * int(rng.integers(0, 30))) for _ in range(23)]
    batches = teacher.length_sorted_batches(pairs, 4)
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))
    lengths = [len(q) + len(p) for q, p in (pairs[i] for i in np.concatenate(batches))]
    assert lengths == sorted(lengths, reverse=True)
    assert all(len(batch) == 4 for batch in batches[:-1]) and len(batches[-1]) == 3

    class Echo:
        def score(self, batch, given=None):
            return np.array([len(q) * 100 + len(p) for q, p in batch], dtype=float)

    done = []
    scores = teacher.score_in_length_batches(Echo(), pairs, 4, on_batch=done.append)
    assert scores.tolist() == [len(q) * 100 + len(p) for q, p in pairs]
    assert sum(done) == 23 and len(done) == 6


def test_cross_encoder_scores_match_direct_predict_and_progress(tmp_path, cross_encoder_dir):
    run_dir = write_run(tmp_path / "run")
    context, notifications = make_context()
    params = {"run_dir": str(run_dir), "scorer": {"kind": "cross-encoder", "model": str(cross_encoder_dir)}}
    result = teacher.teacher_score({**params, "batch_size": 3, "shard_size": 2, "device": "cpu"}, context)
    pairs = pairs_of(run_dir)
    assert result["queries"] == 5 and result["pairs"] == len(pairs) == 19
    assert result["resumed_shards"] == 0 and result["output"] == str(run_dir / teacher.OUTPUT_FILE)
    assert sorted(p.name for p in (run_dir / "teacher").iterdir()) == [
        "manifest.json",
        "shard-00000.jsonl",
        "shard-00001.jsonl",
        "shard-00002.jsonl",
    ]

    direct = CrossEncoder(str(cross_encoder_dir), device="cpu").predict(
        pairs, batch_size=32, activation_fn=torch.nn.Identity(), convert_to_numpy=True
    )
    assert np.ptp(direct) > 0.1  # the tiny model gives distinguishable scores
    raw = split_by_query(np.asarray(direct, dtype=np.float64))
    expected = expected_scores(raw)
    records = read_output(run_dir)
    assert [r["qid"] for r in records] == [q[0] for q in QUERIES]
    for record, (_, _, _, candidates) in zip(records, QUERIES):
        assert record["candidates"] == candidates
        np.testing.assert_allclose(record["raw"], raw[record["qid"]], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(record["scores"], expected[record["qid"]], atol=1e-6)

    progress = [n["params"] for n in notifications() if n["method"] == protocol.PROGRESS]
    assert {p["stage"] for p in progress} == {"teacher"} and {p["request_id"] for p in progress} == {7}
    steps = [p["step"] for p in progress]
    assert steps == sorted(steps) and steps[-1] == 19 and all(p["total"] == 19 for p in progress)
    # Shard sizes 8, 7, 4 pairs in batches of 3: 3 + 3 + 2 batches.
    assert len(progress) == 8


def test_bi_encoder_scores_are_cosines_with_the_models_query_prompt(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    spec = {"kind": "bi-encoder", "model": str(tiny_model_dir)}
    teacher.score_run(run_dir, spec, batch_size=5, shard_size=3)
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    assert model.prompts["query"] == "query: "
    pairs = pairs_of(run_dir)
    queries = model.encode(["query: " + q for q, _ in pairs], convert_to_numpy=True)
    passages = model.encode([p for _, p in pairs], convert_to_numpy=True)
    norms = np.linalg.norm(queries, axis=1) * np.linalg.norm(passages, axis=1)
    cosine = split_by_query((queries * passages).sum(axis=1) / norms)
    for record in read_output(run_dir):
        np.testing.assert_allclose(record["raw"], cosine[record["qid"]], atol=1e-5)


def test_bi_encoder_embeds_each_query_once_across_calls(tiny_model_dir):
    scorer = teacher.BiEncoderScorer(str(tiny_model_dir))
    encoded: list[str] = []
    encode = scorer._encode

    def counting(texts, prompt):
        encoded.extend(texts)
        return encode(texts, prompt)

    scorer._encode = counting
    first = scorer.score([("where do jobs go", "the dead letter queue"), ("cron time zone", "UTC by default")])
    second = scorer.score([("where do jobs go", "retries with backoff")])
    assert encoded.count("where do jobs go") == 1
    fresh = teacher.BiEncoderScorer(str(tiny_model_dir)).score([("where do jobs go", "retries with backoff")])
    np.testing.assert_allclose(second, fresh, atol=1e-6)
    assert first.shape == (2,)


def test_ensemble_is_weighted_mean_of_per_file_normalised_members(tmp_path, cross_encoder_dir, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    members = [
        {"kind": "cross-encoder", "model": str(cross_encoder_dir)},
        {"kind": "bi-encoder", "model": str(tiny_model_dir)},
    ]
    spec = teacher.validate_scorer_spec({"kind": "ensemble", "members": members, "weights": [3, 1]})
    teacher.score_run(run_dir, spec, batch_size=4, shard_size=2)
    records = read_output(run_dir)
    member_raw = [split_by_query(np.concatenate([np.asarray(r["members"])[:, j] for r in records])) for j in (0, 1)]
    # The members' raw scores are the single scorers' own.
    for j, member in enumerate(members):
        single = write_run(tmp_path / f"single-{j}")
        teacher.score_run(single, teacher.validate_scorer_spec(member), batch_size=4, shard_size=2)
        for record in read_output(single):
            np.testing.assert_allclose(member_raw[j][record["qid"]], record["raw"], atol=1e-5)
    normalised = [expected_scores(member_raw[j]) for j in (0, 1)]
    combined = {qid: 0.75 * normalised[0][qid] + 0.25 * normalised[1][qid] for qid in normalised[0]}
    final = expected_scores(combined)
    for record in records:
        np.testing.assert_allclose(record["raw"], combined[record["qid"]], atol=1e-9)
        np.testing.assert_allclose(record["scores"], final[record["qid"]], atol=1e-9)


def given_bm25():
    """Distinct made-up BM25 scores per candidate, as the caller would write them."""
    rng = np.random.default_rng(3)
    return {qid: [float(v) for v in rng.uniform(0, 12, len(candidates))] for qid, _, _, candidates in QUERIES}


def test_a_lexical_member_uses_the_inputs_bm25_scores_in_pair_order(tmp_path, tiny_model_dir):
    lexical = given_bm25()
    run_dir = write_run(tmp_path / "run", lexical=lexical)
    spec = teacher.validate_scorer_spec(
        {"kind": "ensemble", "members": [{"kind": "bi-encoder", "model": str(tiny_model_dir)}, {"kind": "lexical"}]}
    )
    assert spec["members"][1] == {"kind": "lexical"}
    # Batches of 3 are sorted by length, so pairs are scored out of order; the given scores must follow them.
    teacher.score_run(run_dir, spec, batch_size=3, shard_size=2)
    records = read_output(run_dir)
    for record in records:
        np.testing.assert_array_equal(np.asarray(record["members"])[:, 1], lexical[record["qid"]])
    dense = split_by_query(np.concatenate([np.asarray(r["members"])[:, 0] for r in records]))
    normalised = [expected_scores(dense), expected_scores({qid: np.asarray(v) for qid, v in lexical.items()})]
    combined = {qid: 0.5 * normalised[0][qid] + 0.5 * normalised[1][qid] for qid in lexical}
    for record in records:
        np.testing.assert_allclose(record["raw"], combined[record["qid"]], atol=1e-9)


def test_a_lexical_member_without_scores_in_the_input_is_a_problem(tmp_path, tiny_model_dir):
    run_dir = write_run(tmp_path / "run")
    spec = teacher.validate_scorer_spec(
        {"kind": "ensemble", "members": [{"kind": "bi-encoder", "model": str(tiny_model_dir)}, {"kind": "lexical"}]}
    )
    with pytest.raises(Problem, match="has a lexical member but query 'q1'.*no 'lexical' scores"):
        teacher.score_run(run_dir, spec)
    broken = {qid: scores[:-1] for qid, scores in given_bm25().items()}
    run_dir = write_run(tmp_path / "broken", lexical=broken)
    with pytest.raises(Problem, match="line 1: 'lexical' must hold one finite score per candidate"):
        teacher.score_run(run_dir, spec)


def test_resume_recomputes_only_the_missing_shard(tmp_path, cross_encoder_dir):
    run_dir = write_run(tmp_path / "run")
    spec = {"kind": "cross-encoder", "model": str(cross_encoder_dir)}
    first = CountingLoader()
    teacher.score_run(run_dir, spec, batch_size=3, shard_size=2, scorer_loader=first)
    assert first.pairs == 19
    before = (run_dir / teacher.OUTPUT_FILE).read_text()
    (run_dir / "teacher" / "shard-00002.jsonl").unlink()
    (run_dir / teacher.OUTPUT_FILE).unlink()

    second = CountingLoader()
    result = teacher.score_run(run_dir, spec, batch_size=3, shard_size=2, scorer_loader=second)
    assert result["resumed_shards"] == 2
    assert second.pairs == 5  # q5's candidates only
    assert (run_dir / teacher.OUTPUT_FILE).read_text() == before

    # A damaged shard (other qids) is recomputed, and a complete run loads no model at all.
    shard = run_dir / "teacher" / "shard-00000.jsonl"
    shard.write_text(shard.read_text().replace('"q1"', '"qX"'))
    third = CountingLoader()
    assert teacher.score_run(run_dir, spec, batch_size=3, shard_size=2, scorer_loader=third)["resumed_shards"] == 2
    assert third.pairs == 7
    fourth = CountingLoader()
    assert teacher.score_run(run_dir, spec, batch_size=3, shard_size=2, scorer_loader=fourth)["resumed_shards"] == 3
    assert fourth.calls == 0 and (run_dir / teacher.OUTPUT_FILE).read_text() == before


def test_other_scorer_or_input_starts_over(tmp_path, cross_encoder_dir, tiny_model_dir, caplog):
    run_dir = write_run(tmp_path / "run")
    cross = {"kind": "cross-encoder", "model": str(cross_encoder_dir)}
    teacher.score_run(run_dir, cross, shard_size=2)
    with caplog.at_level(logging.INFO, logger="specialize_trainer.teacher"):
        result = teacher.score_run(run_dir, {"kind": "bi-encoder", "model": str(tiny_model_dir)}, shard_size=2)
    assert result["resumed_shards"] == 0
    assert "starting over" in caplog.text
    manifest = json.loads((run_dir / "teacher" / "manifest.json").read_text())
    assert manifest["scorer"]["kind"] == "bi-encoder"

    changed = [(*QUERIES[0][:3], ["p0", "p1"]), *QUERIES[1:]]
    write_run(run_dir, changed)
    loader = CountingLoader()
    result = teacher.score_run(run_dir, cross, shard_size=2, scorer_loader=loader)
    assert result["resumed_shards"] == 0 and loader.pairs == 17


def test_cancellation_keeps_finished_shards(tmp_path, cross_encoder_dir):
    run_dir = write_run(tmp_path / "run")
    context, _ = make_context()
    spec = {"kind": "cross-encoder", "model": str(cross_encoder_dir)}
    # Shard 0 has 8 pairs: batches 1-2 of size 4; the token is set during the third call (shard 1).
    loader = CountingLoader(context.token, cancel_after=3)
    with pytest.raises(RequestCancelled):
        teacher.score_run(run_dir, spec, batch_size=4, shard_size=2, token=context.token, scorer_loader=loader)
    assert loader.calls == 3
    shards = sorted(p.name for p in (run_dir / "teacher").glob("shard-*.jsonl"))
    assert shards == ["shard-00000.jsonl"] and not (run_dir / teacher.OUTPUT_FILE).exists()
    assert not list((run_dir / "teacher").glob(".*tmp*"))
    assert teacher.score_run(run_dir, spec, batch_size=4, shard_size=2)["resumed_shards"] == 1


@pytest.mark.parametrize(
    "file, content, match",
    [
        (teacher.INPUT_FILE, '{"qid": "q1", "query": "a", "type": "t", "candidates": ["p0"]}\n{"qid": ', "line 2"),
        (teacher.INPUT_FILE, '\n{"qid": "q1", "query": "a", "type": "t"}\n', "line 2: needs"),
        (teacher.INPUT_FILE, '{"qid": "q1", "query": "a", "type": "t", "candidates": ["p0", "zz"]}\n', "'zz'"),
        (teacher.INPUT_FILE, "\n\n", "is empty"),
        (teacher.PASSAGES_FILE, '{"id": "p0", "text": "a"}\n[1, 2]\n', "line 2: expected a JSON object"),
        (teacher.PASSAGES_FILE, '{"id": "p0", "text": "a"}\n{"id": "p0", "text": "b"}\n', "duplicate passage"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, file, content, match):
    run_dir = write_run(tmp_path / "run")
    (run_dir / file).write_text(content)
    context, _ = make_context()
    params = {"run_dir": str(run_dir), "scorer": {"kind": "cross-encoder", "model": "unused"}, "device": "cpu"}
    with pytest.raises(Problem, match=match) as raised:
        teacher.teacher_score(params, context)
    assert file in raised.value.message and raised.value.data["fix"]


def test_missing_input_and_unloadable_model_are_problems(tmp_path):
    run_dir = write_run(tmp_path / "run")
    (run_dir / teacher.INPUT_FILE).unlink()
    with pytest.raises(Problem, match="teacher_input.jsonl does not exist"):
        teacher.score_run(run_dir, {"kind": "cross-encoder", "model": "x"})
    write_run(run_dir)
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(Problem, match="Could not load the cross-encoder teacher") as raised:
        teacher.score_run(run_dir, {"kind": "cross-encoder", "model": str(empty)})
    assert "model folder" in raised.value.data["fix"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"scorer": {"kind": "cross-encoder", "model": "m"}}, "run_dir"),
        ({"run_dir": "r", "scorer": {"kind": "llm", "model": "m"}}, "scorer kind"),
        ({"run_dir": "r", "scorer": {"kind": "bi-encoder"}}, "needs a model"),
        ({"run_dir": "r", "scorer": {"kind": "ensemble", "members": [{"kind": "ensemble"}]}}, "scorer kind"),
        ({"run_dir": "r", "scorer": {"kind": "ensemble", "members": [{"kind": "bi-encoder", "model": "m"}]}}, None),
        ({"run_dir": "r", "scorer": {"kind": "cross-encoder", "model": "m"}, "batch_size": 0}, "batch_size"),
        ({"run_dir": "r", "scorer": {"kind": "cross-encoder", "model": "m"}, "device": "tpu"}, "device"),
    ],
)
def test_invalid_params(tmp_path, params, match):
    context, _ = make_context()
    if match is None:  # valid params, missing run_dir: a Problem, not InvalidParams
        with pytest.raises(Problem, match="does not exist"):
            teacher.teacher_score({**params, "run_dir": str(tmp_path / "missing"), "device": "cpu"}, context)
        return
    with pytest.raises(protocol.InvalidParams, match=match):
        teacher.teacher_score(params, context)
    weights = {"kind": "ensemble", "members": [{"kind": "bi-encoder", "model": "m"}], "weights": [1, 2]}
    with pytest.raises(protocol.InvalidParams, match="weights"):
        teacher.validate_scorer_spec(weights)


def test_register_teacher_replaces_the_stub():
    context, _ = make_context()
    assert context.server._handlers[protocol.TEACHER_SCORE] is teacher.teacher_score
