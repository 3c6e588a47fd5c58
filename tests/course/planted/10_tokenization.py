"""Planted bugs for module 10: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Unicode code points instead of UTF-8 bytes: fine for ASCII, ids past 255 for anything else.
    bug("code-points-not-bytes", "bpe-tokenizer",
        'word = tuple(chunk.encode("utf-8"))', "word = tuple(ord(char) for char in chunk)",
        "integration-corpus-round-trip", "integration-unseen-text", "integration-save-load",
        "integration-special-tokens"),
    # Merging the leftmost known pair instead of the pair of lowest rank: still round-trips, wrong tokens.
    bug("leftmost-merge-not-lowest-rank", "bpe-tokenizer",
        "pair = min(pairwise(word), key=lambda pair: self.ranks.get(pair, len(self.ranks)))",
        "pair = next((pair for pair in pairwise(word) if pair in self.ranks), None)",
        "integration-corpus-round-trip"),
    # The incremental trainer re-reads every word after each merge: right merges, none of the savings.
    bug("incremental-rereads-every-word", "train-incremental",
        "for position in words_with.pop(pair):", "for position in range(len(words)):",
        "integration-incremental-training"),
    # Special tokens saved in alphabetical order: their ids change after loading.
    bug("special-tokens-saved-sorted", "save-load",
        '"special_tokens": list(tokenizer.special_tokens)}', '"special_tokens": sorted(tokenizer.special_tokens)}',
        "integration-save-load"),
    bug("load-ignores-the-version", "save-load",
        ' or state.get("version") != 1', "",
        "integration-save-load"),
    # Training on the special tokens' own text.
    bug("train-on-special-token-text", "bpe-tokenizer",
        "ordinary = split_on_specials(text, special_tokens)[::2]", "ordinary = [text]",
        "integration-special-tokens"),
    # Clear errors: the vocabulary check forgets the special tokens; only the first unknown character is named.
    bug("vocab-check-forgets-specials", "bpe-tokenizer",
        "if vocab_size < 256 + len(special_tokens):", "if vocab_size < 256:",
        "integration-clear-errors"),
    bug("names-first-unknown-character-only", "char-tokenizer",
        'raise ValueError(f"characters not in the vocabulary: {unknown}")',
        'raise ValueError(f"character {unknown[0]!r} is not in the vocabulary")',
        "integration-clear-errors"),
]
