"""A small byte-level BPE vocabulary in CLIP's conventions, learned from a fixed corpus, so the tiny
golden CLIP model has a real tokenizer (vocab.json + merges.txt) that both clipt and transformers'
CLIPTokenizer load. Vocabulary order as CLIP's: the 256 byte symbols, the same with '</w>', one token
per merge, then <|startoftext|> and <|endoftext|>."""
import collections
import json
import os
import re

CORPUS = """
a photo of a red circle. a photo of a blue square. a photo of a green triangle. a photo of a small star.
a photo of a dog. a photo of a cat. a photo of the large hexagon. a bad photo of the diamond.
a centered satellite photo of a river. a photo of a person doing yoga. a photo of a pizza, a type of food.
a photo of a rose, a type of flower. a photo of a boeing 747, a type of aircraft. striped texture.
x x x x x x x x a photo of a yellow ring on a grey background. there is a purple cross on the left.
an origami swan. art of the moon. a photo of a striped circle and a dotted square. itap of a heart.
"""
MERGES = 300


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def learn(corpus=CORPUS, merges=MERGES):
    table = bytes_to_unicode()
    words = collections.Counter(re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", corpus.lower()))
    seqs = {w: tuple(table[b] for b in w.encode()[:-1]) + (table[w.encode()[-1]] + "</w>",) for w in words}
    rules = []
    for _ in range(merges):
        pairs = collections.Counter()
        for w, seq in seqs.items():
            for a, b in zip(seq, seq[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))  # most frequent, ties by the pair itself
        rules.append(best)
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and (seq[i], seq[i + 1]) == best:
                    out.append(seq[i] + seq[i + 1])
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = tuple(out)
    vocab = list(table.values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(r) for r in rules]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return vocab, rules


def write_vocabulary(directory):
    vocab, rules = learn()
    with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in rules:
            f.write(f"{a} {b}\n")
    return len(vocab)
