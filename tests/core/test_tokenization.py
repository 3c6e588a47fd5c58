"""Package tests for tinytorch.core.tokenization (generated from source/10_tokenization)."""

import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core.tensor import Tensor
from tinytorch.core.tokenization import (
    BPETokenizer,
    CharTokenizer,
    best_pair,
    check_ids,
    count_pairs,
    load_python_docs,
    load_tokenizer,
    merge_pair,
    save_tokenizer,
    split_chunks,
    split_on_specials,
    train_merges,
    train_merges_naive,
)

CORPUS = load_python_docs()
SPECIALS = ["<|endoftext|>", "<|pad|>"]


@pytest.fixture(scope="module")
def docs_tokenizer():
    return BPETokenizer.train(CORPUS[:80_000], vocab_size=420, special_tokens=SPECIALS)


def word_counts_of(text):
    return {tuple(chunk.encode("utf-8")): count for chunk, count in Counter(split_chunks(text)).items()}


def replay(word, merges):
    """The reference encoding of one chunk: every merge applied in training order."""
    for rank, pair in enumerate(merges):
        word = merge_pair(word, pair, 256 + rank)
    return list(word)


def test_corpus_is_pythons_docs_and_deterministic():
    assert len(CORPUS) > 100_000 and "yield" in CORPUS
    assert load_python_docs() == CORPUS


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_chunks_join_back_into_any_text(text):
    assert "".join(split_chunks(text)) == text


def test_chunks_keep_one_leading_space_with_words():
    assert split_chunks("x = max(a, 10)") == ["x", " =", " max", "(", "a", ",", " 10", ")"]
    assert split_chunks("a   b") == ["a", "  ", " b"]
    assert split_chunks("__init__(self)") == ["__init__", "(", "self", ")"]


def test_char_tokenizer_round_trip_and_errors():
    tokenizer = CharTokenizer.train("hello world")
    assert tokenizer.chars == sorted(set("hello world"))
    assert tokenizer.decode(tokenizer.encode("low held")) == "low held"
    with pytest.raises(ValueError, match="'z'") as error:
        tokenizer.encode("zebra")
    assert "'a'" in str(error.value) and "'b'" in str(error.value)
    with pytest.raises(ValueError, match="duplicate|distinct"):
        CharTokenizer(["a", "a"])
    with pytest.raises(TypeError):
        tokenizer.encode(b"hello")


def test_check_ids_accepts_lists_arrays_tensors_and_names_bad_ids():
    assert check_ids([1, 2], 3) == [1, 2]
    assert check_ids(np.array([2, 0], dtype=np.uint8), 3) == [2, 0]
    assert check_ids(Tensor(np.array([1]), dtype=np.int64), 3) == [1]
    assert check_ids([], 3) == []
    with pytest.raises(ValueError, match="3.*0 to 2"):
        check_ids([0, 3], 3)
    with pytest.raises(ValueError, match="-1"):
        check_ids([-1], 3)
    with pytest.raises(TypeError, match="float"):
        check_ids([0.0], 3)
    with pytest.raises(TypeError, match="bool"):
        check_ids([True], 3)
    with pytest.raises(ValueError, match="1-d"):
        check_ids([[1]], 3)


def test_pair_counting_and_merging():
    assert count_pairs({(1, 2, 3): 2, (2, 3, 2, 3): 1}) == {(1, 2): 2, (2, 3): 4, (3, 2): 1}
    assert merge_pair((7, 7, 7), (7, 7), 9) == (9, 7)
    assert merge_pair((7, 7, 7, 7), (7, 7), 9) == (9, 9)
    assert merge_pair((), (1, 2), 9) == ()
    assert best_pair({(3, 4): 2, (1, 9): 2, (0, 0): 1}) == (1, 9)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.lists(st.integers(0, 3), min_size=1, max_size=8).map(tuple), st.integers(1, 5), max_size=25),
       st.integers(0, 30))
def test_incremental_training_learns_the_naive_merges(word_counts, num_merges):
    before = dict(word_counts)
    assert train_merges(word_counts, num_merges) == train_merges_naive(word_counts, num_merges)
    assert word_counts == before


def test_incremental_training_on_the_corpus():
    words = word_counts_of(CORPUS[:60_000])
    assert train_merges(words, 100) == train_merges_naive(words, 100)


def test_bpe_round_trips_any_text(docs_tokenizer):
    @settings(max_examples=100, deadline=None)
    @given(st.text())
    def round_trip(text):
        ids = docs_tokenizer.encode(text)
        assert all(0 <= i < docs_tokenizer.vocab_size for i in ids)
        assert docs_tokenizer.decode(ids) == text

    round_trip()
    for text in ("", "😀👩‍👩‍👧‍👦🇫🇷", "日本語", "\x00\r\n\t", "e\u0301", CORPUS[80_000:90_000]):
        assert docs_tokenizer.decode(docs_tokenizer.encode(text)) == text


def test_encoding_by_rank_equals_replaying_the_merges(docs_tokenizer):
    chunks = sorted(set(split_chunks(CORPUS[80_000:120_000])), key=len)[-200:]
    fresh = BPETokenizer(docs_tokenizer.merges)
    for chunk in chunks:
        assert fresh.encode(chunk) == replay(tuple(chunk.encode("utf-8")), docs_tokenizer.merges)


def test_the_whole_corpus_round_trips_and_compresses():
    tokenizer = BPETokenizer.train(CORPUS, vocab_size=512)
    ids = tokenizer.encode(CORPUS)
    assert tokenizer.decode(ids) == CORPUS
    assert len(ids) < 0.5 * len(CORPUS)


def test_training_vocabulary_sizes():
    tokenizer = BPETokenizer.train("abab abab", vocab_size=1000, special_tokens=["<|x|>"])
    assert tokenizer.vocab_size == 256 + len(tokenizer.merges) + 1 < 1000
    assert tokenizer.special_token_id("<|x|>") == tokenizer.vocab_size - 1
    assert BPETokenizer.train("abab", vocab_size=257, special_tokens=["<|x|>"]).merges == []
    with pytest.raises(ValueError, match="257.*258|258"):
        BPETokenizer.train("abab", vocab_size=257, special_tokens=["<|x|>", "<|y|>"])


def test_special_tokens(docs_tokenizer):
    eot, pad = (docs_tokenizer.special_token_id(token) for token in SPECIALS)
    assert (eot, pad) == (418, 419)
    assert docs_tokenizer.encode("a<|endoftext|><|pad|>b") == (
        docs_tokenizer.encode("a") + [eot, pad] + docs_tokenizer.encode("b"))
    assert max(docs_tokenizer.encode(CORPUS[:30_000] + "<|endoftext")) < eot
    assert docs_tokenizer.decode([eot, pad]) == "<|endoftext|><|pad|>"
    assert split_on_specials("a<|x|>b<|x|>", ["<|x|>"]) == ["a", "<|x|>", "b", "<|x|>", ""]
    assert split_on_specials("<|ab|>", ["<|a", "<|ab|>"]) == ["", "<|ab|>", ""]
    with pytest.raises(KeyError, match="<|pad|>"):
        BPETokenizer().special_token_id("<|pad|>")
    for bad in (["<|a|>", "<|a|>"], [""], [3]):
        with pytest.raises(ValueError, match="special tokens"):
            BPETokenizer(special_tokens=bad)


def test_decode_replaces_invalid_utf8(docs_tokenizer):
    assert docs_tokenizer.decode([0xF0, 0x9F]) == "\ufffd"
    assert docs_tokenizer.decode(np.array(docs_tokenizer.encode("héllo"))) == "héllo"
    with pytest.raises(ValueError, match="420"):
        docs_tokenizer.decode([420])


def test_save_and_load_round_trip(tmp_path, docs_tokenizer):
    path = tmp_path / "tokenizer.json"
    docs_tokenizer.save(path)
    state = json.loads(path.read_text(encoding="utf-8"))
    assert state["format"] == "tinytorch-bpe" and state["special_tokens"] == SPECIALS
    loaded = BPETokenizer.load(path)
    assert loaded.merges == docs_tokenizer.merges and loaded.vocab == docs_tokenizer.vocab
    assert loaded.special_tokens == docs_tokenizer.special_tokens
    assert not (tmp_path / "tokenizer.json.tmp").exists()
    save_tokenizer(BPETokenizer([(1, 2)]), path)
    assert load_tokenizer(path).merges == [(1, 2)]


@pytest.mark.parametrize("state", [
    {"merges": [[300, 1]]}, {"merges": [[1, 2, 3]]}, {"merges": [[1.5, 2]]}, {"merges": [[True, 2]]},
    {"merges": [[-1, 2]]}, {"special_tokens": ["<|a|>", "<|a|>"]}, {"version": 2}, {"format": "other"},
])
def test_load_refuses_bad_files(tmp_path, state):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "tinytorch-bpe", "version": 1, "merges": [], "special_tokens": [], **state}))
    with pytest.raises(ValueError):
        load_tokenizer(path)
