#!/usr/bin/env python3
"""Writes tests/golden/tokenizer_ids.json: text -> token ids from OpenAI's own SimpleTokenizer.

The reference is the `clip` package's simple_tokenizer.py (PyPI `openai-clip`, which also brings ftfy and
regex), run on CLIP's bpe_simple_vocab_16e6.txt.gz. Texts:
  * every class name of every dataset in CLIP's prompts.md and of ImageNet, in "a photo of a {}.";
  * every class name of the 11 base-to-new datasets in CoOp's per-dataset template;
  * every template of prompts.md, filled with the dataset's first class name;
  * hard strings: punctuation, digits, contractions, accents, non-Latin scripts, emoji, HTML entities,
    whitespace runs, case-mapping and normalisation corner cases, over-long text.
For the hard strings it also records OpenAI's decode() of the ids, and clip.tokenize(truncate=True) rows
for the texts longer than the context.

Set-up (a venv that sees Debian's torch):
    /usr/bin/python3 -m venv --system-site-packages /tmp/tokvenv
    /tmp/tokvenv/bin/pip install ftfy regex tqdm && /tmp/tokvenv/bin/pip install --no-deps openai-clip
    /tmp/tokvenv/bin/python tests/golden/make_tokenizer_fixture.py [SHARED_DATA_DIR]
SHARED_DATA_DIR defaults to ../shared/data next to the repository.
"""
import ast
import hashlib
import json
import re
import sys
from pathlib import Path

import ftfy
import regex
from clip import clip as openai_clip
from clip.simple_tokenizer import SimpleTokenizer

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "golden" / "tokenizer_ids.json"

# The 11 base-to-new datasets: prompts.md section (None = ImageNet's own list) and CoOp's template.
BASE_TO_NEW = {
    "ImageNet": (None, "a photo of a {}."),
    "Caltech101": ("Caltech101", "a photo of a {}."),
    "OxfordPets": ("OxfordPets", "a photo of a {}, a type of pet."),
    "StanfordCars": ("StanfordCars", "a photo of a {}."),
    "Flowers102": ("Flowers102", "a photo of a {}, a type of flower."),
    "Food101": ("Food101", "a photo of {}, a type of food."),
    "FGVCAircraft": ("FGVCAircraft", "a photo of a {}, a type of aircraft."),
    "SUN397": ("SUN397", "a photo of a {}."),
    "DTD": ("DescribableTextures", "{} texture."),
    "EuroSAT": ("EuroSAT", "a centered satellite photo of {}."),
    "UCF101": ("UCF101", "a photo of a person doing {}."),
}

HARD_STRINGS = [
    # punctuation, digits, apostrophes
    "Hello, world! How's it going?",
    "it's, don't, they're, we've, I'm, you'll, he'd -- IT'S DON'T THEY'RE",
    "rock'n'roll o'clock 'quoted' ''double'' '''",
    "...!!!???,,,;;;:::---___***&&&%%%$$$###@@@",
    "(a) [b] {c} <d> /e/ \\f\\ |g| ~h~ `i` ^j^ +k+ =l=",
    "3.14159 1,000,000 2024-01-31 12:30pm 0x1F 1e-5 -42 +7",
    "version 2.0.1-beta, 100% sure, #1 fan, $9.99, 50/50, 24/7",
    "½ ¼ ² ³ Ⅻ ٣ ४ 〇 ① ⑩ 𝟘",
    # accents, case mapping, normalisation
    "café Ångström naïve résumé Zürich São Paulo Kraków Dvořák",
    "CAFÉ ÅNGSTRÖM NAÏVE ÉCOLE ÆSIR ØRESUND ÞINGVELLIR",
    "cafe\u0301 Ange\u0301lique n\u0303 A\u030a",  # decomposed: NFC composes them
    "İstanbul DİYARBAKIR ıi",
    "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ Σ ΑΣ. ΑΣ1 σοφος",  # Greek final sigma
    "Α\u0345Σ \u0345Σ Σ\u0345 ΑΣ\u0345Α",  # U+0345 is both cased and case-ignorable
    "Straße STRASSE ẞ ß",
    "ﬁne ﬂour ﬀ ĳ Ǆ",  # Latin ligatures (ftfy expands them)
    "ＬＯＵＤ　ＮＯＩＳＥＳ ＡＢＣ１２３！",  # fullwidth (ftfy narrows them)
    "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ",  # halfwidth katakana (ftfy widens them, NFC composes the voiced marks)
    "it’s “curly” ‘quotes’ ‛odd‟ ʼn",  # curly quotes (ftfy straightens them)
    "it'ſ ſtraße",
    # non-Latin scripts
    "北京 東京 Москва Αθήνα مرحبا שלום नमस्ते",
    "日本語のテキストと中文文本 한국어 텍스트",
    "ภาษาไทย ສະບາຍດີ ქართული Հայերեն ኢትዮጵያ",
    "Привет, МИР! Ёлка ЁЛКА Їжак",
    "Ελληνικά ΚΕΦΑΛΑΙΑ ὅτι ᾼ ᾳ",
    "ἀ\u0345 x\u0345y !\u0345!",  # U+0345 matches nothing in CLIP's pattern under IGNORECASE
    "السلام عليكم ١٢٣ עברית 123",
    "தமிழ் తెలుగు বাংলা ગુજરાતી ਪੰਜਾਬੀ",
    # emoji and symbols
    "I ❤️ NY 😀😃😄 👍🏽 👨‍👩‍👧 🇯🇵🇫🇷 ☕ ™ © ®",
    "→ ← ↑ ↓ ∀ ∃ ∑ √ ∞ ≠ ≤ ≥ ★ ☆ ♠ ♣",
    # HTML entities
    "&amp; &lt; &gt; &quot; &#39; &#x27; &nbsp;",
    "fish &amp;amp; chips &amp;amp;amp; more",
    "caf&eacute; &EACUTE;T&Eacute; &ntilde;&NTILDE;",
    "&ampfoo &notit; &#65;&#x42;&#X43; &#0; &#128; &#150; &#xD800; &#99999999;",
    "a < b &amp; c &lt; d",
    "first &amp; line <tag>\nsecond &amp;amp; line",
    "&unknownentity; &;&#;&#x; & amp;",
    # whitespace and controls
    "  multiple   spaces\tand\ttabs\nand\nnewlines\r\nand\u00a0nbsp\u2003em\u3000ideographic  ",
    "\t\n leading and trailing \n\t",
    "zero\u200bwidth joiner\u200dand\u2060word\u00adsoft hyphen",
    "bell\x07 esc\x1b[31mred\x1b[0m del\x7f c1\x85next \x81",
    "line\u2028sep\u2029para\x0bvt\x0cff",
    "\ufeffbom and \ufffc object",
    # special tokens typed in text
    "<|startoftext|>hello world<|endoftext|>",
    "<|STARTOFTEXT|> <|EndOfText|> <|endoftext|>. .<|endoftext|>",
    # edge lengths
    "",
    "   ",
    "a",
    "A.",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "a photo of a " + " ".join(["very"] * 80) + " long prompt.",
    " ".join(f"word{i}" for i in range(60)),
    "The quick brown fox jumps over the lazy dog. " * 12,
]


def parse_prompts(path):
    """{dataset: (class names, templates)} from prompts.md; FER2013's lists of synonyms are flattened."""
    text = path.read_text(encoding="utf-8")
    out = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        name = section.splitlines()[0].strip()
        lists = {}
        for key in ("classes", "templates"):
            m = re.search(rf"^{key} = (\[.*?^\])", section, flags=re.M | re.S)
            if m:
                lists[key] = ast.literal_eval(m.group(1))
        classes = []
        for c in lists.get("classes", []):
            classes.extend(c if isinstance(c, list) else [c])
        out[name] = (classes, lists.get("templates", []))
    return out


def main():
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    vocab_path = data_dir / "bpe_simple_vocab_16e6.txt.gz"
    prompts = parse_prompts(data_dir / "clip_reference" / "prompts.md")
    imagenet = [l.strip() for l in (data_dir / "clip_reference" / "imagenet_classes.txt").read_text().splitlines()
                if l.strip()]
    tok = SimpleTokenizer(bpe_path=str(vocab_path))

    texts = []
    for name, (classes, _) in prompts.items():
        texts += [f"a photo of a {c}." for c in classes]
    texts += [f"a photo of a {c}." for c in imagenet]
    for name, (section, template) in BASE_TO_NEW.items():
        classes = imagenet if section is None else prompts[section][0]
        assert classes, f"no classes for {name}"
        texts += [template.format(c) for c in classes]
    for name, (classes, templates) in prompts.items():
        if classes:
            texts += [t.format(classes[0]) for t in templates]
    texts += HARD_STRINGS

    seen, entries = set(), []
    for t in texts:
        if t in seen:
            continue
        seen.add(t)
        # Mojibake repair is the one ftfy step the C++ tokenizer does not reproduce: keep it out of the
        # fixture so that a mismatch always means a bug.
        assert ftfy.fix_text(t) == ftfy.fix_text(t, fix_encoding=False), f"ftfy repairs mojibake in {t!r}"
        entries.append([t, tok.encode(t)])

    decoded = [[t, tok.decode([49406] + tok.encode(t) + [49407])] for t in HARD_STRINGS]
    truncated = []
    for t in HARD_STRINGS:
        if len(tok.encode(t)) + 2 > 77:
            truncated.append([t, openai_clip.tokenize([t], truncate=True)[0].tolist()])
    assert truncated, "no over-long hard string"

    doc = {
        "generator": "tests/golden/make_tokenizer_fixture.py (OpenAI clip.simple_tokenizer.SimpleTokenizer)",
        "ftfy": ftfy.__version__,
        "regex": regex.__version__,
        "python": sys.version.split()[0],
        "vocab": vocab_path.name,
        "vocab_sha256": hashlib.sha256(vocab_path.read_bytes()).hexdigest(),
        "sot": 49406,
        "eot": 49407,
    }
    dump = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    lines = ["{"]
    for k, v in doc.items():
        lines.append(f"{dump(k)}:{dump(v)},")
    for key, rows in (("decode", decoded), ("truncated", truncated), ("encode", entries)):
        lines.append(f'"{key}":[')
        lines.append(",\n".join(dump(r) for r in rows))
        lines.append("]," if key != "encode" else "]")
    lines.append("}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(entries)} texts, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
