"""A character-level recurrent network that learns to spell a short text, then writes some.

The text (examples/data/backprop_poem.txt, written for this repository) is cut into windows of
``seq_len`` characters. At each time step t the network reads one character per sequence of the
batch and updates its state, in the article's column layout (one sequence per column)::

    e_t = Embedding(c_t)                      (d, B)   the character's vector
    h_t = tanh(W_x·e_t + W_h·h_{t−1} + b)     (H, B)   the new state
    z_t = W_y·h_t + b_y                       (V, B)   scores for the next character

and the loss is the cross-entropy of z_t against the next character, averaged over the steps.
``loss.backward()`` is backpropagation through time: the engine follows h_t back through every
step. The loss falls from ln V (a uniform guess) and samples from the network are printed.

Run:  python examples/char_rnn.py             (about 20 s on two cores)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tinygrad_nn import Tensor, nn, no_grad, optim

TEXT_PATH = Path(__file__).resolve().parent / "data" / "backprop_poem.txt"


class CharRNN(nn.Module):
    """Embedding -> one tanh recurrent layer -> Linear scores for the next character."""

    def __init__(self, vocab_size: int, embedding_dim: int = 16, hidden: int = 64,
                 seed: int = 0) -> None:
        super().__init__()
        self.hidden_size = hidden
        self.embed = nn.Embedding(vocab_size, embedding_dim, seed=seed)
        self.input = nn.Linear(embedding_dim, hidden, init="xavier", seed=seed + 1)
        self.recur = nn.Linear(hidden, hidden, init="xavier", seed=seed + 2)
        self.output = nn.Linear(hidden, vocab_size, init="xavier", seed=seed + 3)

    def step(self, chars: np.ndarray, h: Tensor) -> tuple[Tensor, Tensor]:
        """One time step: (B,) character ids and the (H, B) state -> (V, B) scores, new state."""
        h = (self.input(self.embed(chars)) + self.recur(h)).tanh()
        return self.output(h), h

    def initial_state(self, batch: int) -> Tensor:
        return Tensor(np.zeros((self.hidden_size, batch)))

    def forward(self, sequences: np.ndarray) -> Tensor:
        """Mean cross-entropy of predicting sequences[:, t+1] from sequences[:, :t+1]."""
        batch, length = sequences.shape
        h = self.initial_state(batch)
        losses = []
        for t in range(length - 1):
            scores, h = self.step(sequences[:, t], h)
            losses.append(nn.cross_entropy(scores, sequences[:, t + 1]))
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total / len(losses)


def sample(model: CharRNN, alphabet: list[str], start: str, length: int,
           rng: np.random.Generator, temperature: float = 0.7) -> str:
    """Text generated one character at a time, each drawn from the softmax of the scores."""
    index = {c: i for i, c in enumerate(alphabet)}
    with no_grad():
        h = model.initial_state(1)
        scores = None
        for c in start:
            scores, h = model.step(np.array([index[c]]), h)
        out = list(start)
        for _ in range(length):
            assert scores is not None
            p = (scores / temperature).softmax(axis=0).data[:, 0]
            c = int(rng.choice(len(alphabet), p=p / p.sum()))
            out.append(alphabet[c])
            scores, h = model.step(np.array([c]), h)
    return "".join(out)


def main(iterations: int = 400, seq_len: int = 24, batch: int = 16, lr: float = 0.01,
         seed: int = 0, progress: bool = True, samples: int = 3) -> list[float]:
    """Train; print a few samples on the way. Returns the loss of every iteration."""
    text = TEXT_PATH.read_text(encoding="utf-8")
    alphabet = sorted(set(text))
    ids = np.array([alphabet.index(c) for c in text])
    model = CharRNN(len(alphabet), seed=seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    print(f"{len(text)} characters, {len(alphabet)} distinct; a uniform guess costs "
          f"ln {len(alphabet)} = {np.log(len(alphabet)):.3f}")
    show_at = {round(iterations * (i + 1) / samples) - 1 for i in range(samples)}
    bar = tqdm(range(iterations), desc="char RNN", unit="step", disable=not progress)
    for iteration in bar:
        starts = rng.integers(0, len(ids) - seq_len, size=batch)
        sequences = np.stack([ids[s:s + seq_len] for s in starts])
        loss = model(sequences)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if iteration in show_at:
            text_out = sample(model, alphabet, "the ", 60, rng)
            tqdm.write(f"step {iteration + 1}, loss {np.mean(losses[-20:]):.3f}: {text_out!r}")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(iterations=args.iterations, seed=args.seed)
