from sentence_transformers import SentenceTransformer

from specialize_trainer.conventions import read_conventions


def test_reads_the_model_own_settings(tiny_model_dir, tiny_cls_model_dir):
    conventions = read_conventions(SentenceTransformer(str(tiny_model_dir), device="cpu"))
    assert conventions.pooling == "mean"
    assert conventions.normalize is True
    assert conventions.max_seq_length == 64
    assert conventions.query_prompt == "query: "
    assert conventions.passage_prompt == ""
    assert read_conventions(SentenceTransformer(str(tiny_cls_model_dir), device="cpu")).pooling == "cls"
