"""Planted bugs for module 13: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The layer norm rule forgets that the output was scaled by the weight (right only while weight == 1).
    bug("layer-norm-rule-ignores-weight", "layer-norm-backward",
        "h = grad * weight", "h = grad",
        "integration-layer-norm"),
    # Dropout only on the MLP branch.
    bug("no-dropout-on-attention", "block",
        "x = x + self.dropout(self.attention(self.ln1(x), mask=mask))", "x = x + self.attention(self.ln1(x), mask=mask)",
        "integration-gpt-shapes-and-count"),
    # One block object repeated: the layers share their weights.
    bug("blocks-share-weights", "gpt",
        "self.blocks = Sequential(*(TransformerBlock(embed_dim, num_heads, dropout, rng=generator)\n"
        "                                   for _ in range(num_layers)))",
        "self.blocks = Sequential(*[TransformerBlock(embed_dim, num_heads, dropout, rng=generator)] * num_layers)",
        "integration-gradient-flow", "integration-gpt-shapes-and-count"),
    # Generation feeds the whole history, past the context length.
    bug("generate-without-cropping", "gpt",
        "self.forward(batch[:, -self.context_length:])", "self.forward(batch)",
        "integration-generate"),
    # Temperature multiplies instead of dividing (the same at temperature 1).
    bug("temperature-multiplies", "gpt",
        "logits = logits / temperature", "logits = logits * temperature",
        "integration-generate"),
    # The next token read from the first position's logits instead of the last one's.
    bug("generate-reads-the-first-position", "gpt",
        ".data[:, -1, :]", ".data[:, 0, :]",
        "integration-generate", "integration-gpt-learns"),
]
