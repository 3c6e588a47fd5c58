"""Planted bugs for module 11: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Integer Tensors of ids (what a data pipeline hands over) are not unwrapped.
    bug("tensor-ids-not-unwrapped", "embedding-op",
        "array = np.asarray(ids.data if isinstance(ids, Tensor) else ids)", "array = np.asarray(ids)",
        "integration-tokens-to-embeddings", "integration-clear-errors"),
    # Id -1 wraps around to the last row instead of failing.
    bug("negative-ids-wrap-around", "embedding-op",
        "outside = (array < 0) | (array >= num_embeddings)", "outside = array >= num_embeddings",
        "integration-clear-errors"),
    bug("boolean-ids-accepted", "embedding-op",
        'if array.dtype.kind not in "iu":', 'if array.dtype.kind not in "iub":',
        "integration-clear-errors"),
    # The scatter-add done with np.add.at, or with a Python loop over positions.
    bug("scatter-with-add-at", "embedding-backward",
        "        full[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)\n",
        "        np.add.at(full, ids, rows)\n",
        "integration-embedding-gradcheck"),
    bug("scatter-with-a-python-loop", "embedding-backward",
        "        full[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)\n",
        "        for position, token in enumerate(ids):\n            full[token] += rows[position]\n",
        "integration-embedding-gradcheck"),
    # The learned positions added as a constant: the table never receives a gradient.
    bug("learned-positions-detached", "positional",
        "return x + embedding(self.weight, np.arange(length))", "return x + Tensor(self.weight.data[:length])",
        "integration-positions"),
]
