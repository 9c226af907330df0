"""MNIST-Text: real MNIST digits paired with a character-level text that spells the digit's name.

The construction of MNIST-SVHN-Text (Shi et al., NeurIPS 2019; Sutter et al., ICLR 2021): the text of a digit
``d`` is its English name (``"seven"``) written at a random offset inside a fixed-length string of blanks
(``"  seven "``), one token per character. The text carries the class and nothing else, so everything a model
learns beyond the class must come from the image. The images are MNIST's test set (the only MNIST images on this
machine), split 8000 / 2000 by :func:`mmc_lib.data.mnist_split`; the text is drawn with its own seed.

>>> tokens = spell([7, 0], length=8, seed=0)
>>> tokens.shape, tokens.dtype.kind
((2, 8), 'i')
>>> [s.strip() for s in decode(tokens)]
['seven', 'zero']
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from mmc_lib.data.splits import mnist_split

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
PAD = " "
#: token 0 is the blank; then every letter that occurs in a digit name (15 letters)
ALPHABET = PAD + "".join(sorted(set("".join(NAMES))))
VOCAB_SIZE = len(ALPHABET)
TEXT_LENGTH = 8  # the longest name ("three", "seven", "eight") is 5 characters; 3 blanks of random padding


def encode(strings) -> np.ndarray:
    """Strings of equal length → ``(n, L)`` int64 tokens; a character outside :data:`ALPHABET` is a ValueError."""
    strings = list(strings)
    lengths = {len(s) for s in strings}
    if len(lengths) > 1:
        raise ValueError(f"texts must have one length, got {sorted(lengths)}")
    index = {c: i for i, c in enumerate(ALPHABET)}
    bad = sorted({c for s in strings for c in s if c not in index})
    if bad:
        raise ValueError(f"characters {bad} are not in the MNIST-Text alphabet {ALPHABET!r}")
    return np.array([[index[c] for c in s] for s in strings], dtype=np.int64).reshape(len(strings), -1)


def decode(tokens) -> list[str]:
    """``(n, L)`` tokens → strings (an id outside the vocabulary is a ValueError)."""
    tokens = np.asarray(tokens)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= VOCAB_SIZE):
        raise ValueError(f"token ids must lie in [0, {VOCAB_SIZE}), got {tokens.min()}..{tokens.max()}")
    return ["".join(ALPHABET[t] for t in row) for row in tokens]


def spell(labels, *, length: int = TEXT_LENGTH, seed: int = 0) -> np.ndarray:
    """The text of each digit label: its name at a random offset in ``length`` blanks, as ``(n, length)`` tokens."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError("labels must be a 1-D array of digits 0..9")
    longest = max(len(n) for n in NAMES)
    if length < longest:
        raise ValueError(f"length must be at least {longest} (the longest digit name), got {length}")
    rng = np.random.default_rng(seed)
    texts = []
    for d in labels:
        name = NAMES[int(d)]
        start = int(rng.integers(0, length - len(name) + 1))
        texts.append(PAD * start + name + PAD * (length - start - len(name)))
    return encode(texts)


@dataclass(frozen=True)
class MNISTText:
    """Paired MNIST-Text: images ``(n, 1, 28, 28)`` in [0, 1], tokens ``(n, L)``, labels ``(n,)``, train and test."""

    x_train: np.ndarray
    t_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    y_test: np.ndarray

    n_clusters = 10
    vocab_size = VOCAB_SIZE


def mnist_text(data_dir: str | os.PathLike | None = None, *, test_size: int = 2000, seed: int = 0,
               max_samples: int | None = None, text_seed: int = 0) -> MNISTText:
    """MNIST test images (8k / 2k stratified split with ``seed``) each paired with a spelled-out text.

    ``max_samples`` caps the train part (stratified); the text padding is drawn with ``text_seed``.
    """
    x_tr, y_tr, x_te, y_te = mnist_split(data_dir, test_size=test_size, seed=seed, max_samples=max_samples)
    return MNISTText(x_tr, spell(y_tr, seed=text_seed), y_tr, x_te, spell(y_te, seed=text_seed + 1), y_te)
