#!/usr/bin/env python3
"""Writes tests/golden/world/bpe_golden.json: BPE merges learned from a small fixed corpus, and token ids of
sample texts under those merges, from references independent of clipt's C++ code:

  * the merges come from a deliberately naive Python re-implementation of the training rule documented in
    models/clip/bpe_trainer.h (recount every pair each step; most frequent pair, ties to the smaller left
    then right symbol in byte order; pairs whose concatenation is already a token skipped), on words
    pre-tokenised by OpenAI's own simple_tokenizer.py (its cleaning and regex);
  * the ids come from OpenAI's SimpleTokenizer loading those merges as a .txt.gz (its vocabulary is built
    positionally: bytes, bytes + "</w>", one token per merge, specials), and are checked equal to the ids
    of transformers' CLIPTokenizer loading the same merges with a vocab.json in the Hugging Face layout.

Set-up:
    /usr/bin/python3 -m venv --system-site-packages /tmp/worldvenv
    /tmp/worldvenv/bin/pip install ftfy regex tqdm transformers
    /tmp/worldvenv/bin/pip install --no-deps openai-clip
    /tmp/worldvenv/bin/python tests/golden/world/make_bpe_golden.py
"""
import gzip
import json
import tempfile
from collections import Counter
from pathlib import Path

import regex
from clip.simple_tokenizer import SimpleTokenizer, basic_clean, bytes_to_unicode, whitespace_clean
from transformers import CLIPTokenizer

OUT = Path(__file__).resolve().parent / "bpe_golden.json"
VOCAB_SIZE = 640
MIN_PAIR_COUNT = 2

CORPUS = [
    "a photo of a small red striped circle.",
    "a red circle on a grey background",
    "a large star, coloured blue, with dots",
    "there is a green triangle on the left",
    "the red square is at the top.",
    "a photo of a red square.",
    "a sketch of a blue star and a green star",
    "it's a circle. it's red. don't worry, it's fine!",
    "we've got 3 red circles and 42 blue squares...",
    "a cartoon of a purple heart?! yes!!",
    "a café serves a naïve crème brûlée",
    "HTML &amp; entities: a &lt;b&gt; tag",
    "    lots   of\twhitespace\n here   ",
    "a photo of a small red circle. a photo of a large red circle.",
    "red red red circle circle square square star star",
    "the the the a a a of of of",
    "dotted dotted striped striped checkered checkered wavy wavy",
    "triangle triangle hexagon hexagon diamond diamond crescent crescent",
]

TEXTS = [
    "a photo of a red circle.",
    "a photo of a small red striped circle.",
    "it's a green hexagon, don't you think?",
    "4 stars and 12 circles!!!",
    "an unseen word: zebra-crossing",
    "café crème",
    "a checkered crescent on a grey background",
]

PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)


def words_of(text):
    return regex.findall(PATTERN, whitespace_clean(basic_clean(text)).lower())


def train(corpus, vocab_size, min_count):
    b2u = bytes_to_unicode()
    vocab = list(b2u.values())
    vocab += [v + "</w>" for v in vocab]
    counts = Counter(w for text in corpus for w in words_of(text))
    state = {}
    for w in counts:
        symbols = [b2u[b] for b in w.encode("utf-8")]
        symbols[-1] += "</w>"
        state[w] = symbols
    tokens = set(vocab)
    merges = []
    while len(vocab) + 2 < vocab_size:
        pairs = Counter()
        for w, n in counts.items():
            s = state[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += n
        candidates = [(c, p) for p, c in pairs.items() if c >= min_count and p[0] + p[1] not in tokens]
        if not candidates:
            break
        _, (a, b) = min(candidates, key=lambda cp: (-cp[0], cp[1][0].encode(), cp[1][1].encode()))
        merges.append((a, b))
        tokens.add(a + b)
        vocab.append(a + b)
        for w, s in state.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            state[w] = out
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return merges, vocab


def main():
    merges, vocab = train(CORPUS, VOCAB_SIZE, MIN_PAIR_COUNT)
    with tempfile.TemporaryDirectory() as tmp:
        gz = Path(tmp) / "merges.txt.gz"
        with gzip.open(gz, "wt", encoding="utf-8") as f:
            # No final newline: SimpleTokenizer would read an empty last line as a merge.
            f.write("\n".join(["#version: 0.2"] + [f"{a} {b}" for a, b in merges]))
        openai = SimpleTokenizer(bpe_path=str(gz))
        assert [openai.decoder[i] for i in range(len(vocab))] == vocab, "vocabulary layout differs from OpenAI's"
        (Path(tmp) / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
        hf = CLIPTokenizer.from_pretrained(tmp)  # reads vocab.json + merges.txt, as for a hub model folder
        texts = []
        for text in TEXTS:
            ids = openai.encode(text)
            hf_ids = hf(text, add_special_tokens=False)["input_ids"]
            assert ids == hf_ids, (text, ids, hf_ids)
            texts.append({"text": text, "ids": ids})
    golden = {
        "vocab_size": VOCAB_SIZE,
        "min_pair_count": MIN_PAIR_COUNT,
        "corpus": CORPUS,
        "merges": [list(m) for m in merges],
        "vocab_tokens": len(vocab),
        "texts": texts,
    }
    OUT.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(merges)} merges, {len(texts)} texts")


if __name__ == "__main__":
    main()
