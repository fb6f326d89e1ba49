"""The learned half of the detector: a hashed word/bigram logistic regression.

Pure and standard library only. Its one I/O is reading the shipped weights file
(``bot/rules/detector.bin``, written by ``scripts/train_detector.py``) once, on first use.

Features of a text (``hashed``): its words (``\\w+`` after NFKC and lower-casing; numbers become one
token; CJK, kana and hangul runs become character pairs), title words apart from body words, and
word pairs, and the first ``PREFIX`` letters of longer words (a crude stem); each hashed with
CRC-32 into ``2**NBITS`` buckets. A text gives at most ``MAX_TOKENS`` words, so at most
``4 * (MAX_TOKENS + MAX_TITLE_TOKENS)`` features, whatever its length.
Feature values are 1/sqrt(number of distinct features), so long and short texts weigh alike.

The model only gives a log-odds (``logit``); ``bot/rules/detect.py`` combines it with the rules'
own log-odds using the stacking weights stored in the same file. No text, word or hash ever leaves
this module: the detector's reason is ``learned:<probability>``.
"""

from __future__ import annotations

import array
import json
import math
import re
import sys
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Model", "hashed", "ascii_words", "load", "WEIGHTS_PATH", "MAGIC", "NBITS", "MAX_TOKENS"]

WEIGHTS_PATH = Path(__file__).with_name("detector.bin")
MAGIC = b"SECBOT-DETECTOR-1\n"
NBITS = 18
MASK = (1 << NBITS) - 1
MAX_TOKENS = 1500  # words read per text (per window of a long body): bounds the features
MAX_TITLE_TOKENS = 60
PREFIX = 4  # word prefixes as features: chosen by out-of-fold recall on training rows (3, 4, 5, 4+6 tried)
_TOKEN = re.compile(r"\w+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
_DIGITS = re.compile(r"\d+")
# ASCII text cut into words without a regex: every character \w does not match (in ASCII: all
# but letters, digits and "_") becomes a space; for the features, every digit a "0" too (runs of
# "0" are then folded).
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})
_ASCII_WORDS = _ASCII_NON_WORD | str.maketrans(dict.fromkeys("0123456789", "0"))
# Every word character "x", every other one a space: a word longer than 30 characters is then a run
# of 31 "x", found by one substring search instead of the length of every word.
ASCII_RUNS = str.maketrans({c: " " if ord(c) in _ASCII_NON_WORD else "x" for c in map(chr, range(128))})
_LONG_RUN = "x" * 31


def _norm(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def _tokens(text: str, limit: int) -> list[str]:
    text = _norm(text)
    if text.isascii():
        return _ascii_tokens(text, limit)
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if len(out) >= limit:
            break
        if tok.isascii():
            if tok.isdigit():
                out.append("0")
            elif len(tok) <= 30:
                out.append(tok if tok.isalpha() else _DIGITS.sub("0", tok))
            continue
        pieces = _CJK_RUN.split(tok)
        runs = _CJK_RUN.findall(tok)
        for piece in pieces:
            if piece and len(piece) <= 30:
                out.append(_DIGITS.sub("0", piece))
        for run in runs:
            out.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return out[:limit]


def ascii_words(text: str) -> list[str]:
    """`_TOKEN.findall(text)` of ASCII text, in a third of the time (bench/README.md)."""
    return text.translate(_ASCII_NON_WORD).split()


def _ascii_tokens(text: str, limit: int) -> list[str]:
    """`_tokens` of ASCII text: long words dropped (numbers kept, as "0"), every digit run made "0".

    Words are cut by `str.translate` and `split`, a third of the time of `_TOKEN.findall`
    (bench/README.md): the same words, as \\w matches exactly letters, digits and "_" in ASCII."""
    words = text.translate(_ASCII_WORDS)
    if _LONG_RUN in text.translate(ASCII_RUNS) and len(max(words.split(None, limit)[:limit], key=len, default="")) > 30:
        # a long word among them: drop it, read further
        kept = [tok for tok in _TOKEN.findall(text) if len(tok) <= 30 or tok.isdigit()][:limit]
        return _DIGITS.sub("0", " ".join(kept)).split(" ") if kept else []
    while "00" in words:  # digits are all "0" now: fold each run of them into one (never across a word)
        words = words.replace("00", "0")
    return words.split(None, limit)[:limit]


def hashed(title: str, body: str) -> list[int]:
    """The distinct feature buckets of one text, sorted (bounded by MAX_TOKENS).

    Each distinct feature string is hashed once (a bug report repeats most of its words and many
    of its pairs): the same buckets as hashing every occurrence, in about half the time."""
    crc = zlib.crc32
    t = _tokens(title, MAX_TITLE_TOKENS)
    b = _tokens(body, MAX_TOKENS)
    words = t + ["|"] + b
    distinct = set(words)
    strings = {"t " + w for w in t}
    strings |= distinct
    strings.update(["p " + w[:PREFIX] for w in distinct if len(w) > PREFIX])  # a crude stem: inflected
    # forms (vulnerabilidade, Sicherheitslücken) share it
    strings.update(map(" ".join, set(zip(words, words[1:]))))  # distinct pairs joined once each
    return sorted({crc(s.encode()) & MASK for s in strings})


@dataclass(frozen=True)
class Model:
    weights: array.array  # int16, 2**NBITS of them
    scale: float  # weight = int16 * scale
    bias: float
    meta: dict[str, Any]  # stacking weights, thresholds and how they were chosen, training summary

    def logit(self, title: str, body: str) -> float:
        feats = hashed(title, body)
        if not feats:
            return self.bias
        w = self.weights
        total = sum(w[h] for h in feats)
        return self.bias + total * self.scale / math.sqrt(len(feats))


def encode(weights: list[float], bias: float, meta: dict[str, Any]) -> bytes:
    """The weights file: magic, one JSON header line (sorted keys), then int16 little-endian weights."""
    top = max((abs(w) for w in weights), default=0.0) or 1.0
    scale = top / 32767.0
    q = array.array("h", (int(round(w / scale)) for w in weights))
    if sys.byteorder != "little":
        q.byteswap()
    header = dict(meta, nbits=NBITS, scale=repr(scale), bias=repr(bias))
    return MAGIC + json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n" + q.tobytes()


def decode(data: bytes) -> Model:
    if not data.startswith(MAGIC):
        raise ValueError("not a Secbot detector weights file")
    end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC):end])
    if header["nbits"] != NBITS:
        raise ValueError("weights file built for another feature size")
    weights = array.array("h")
    weights.frombytes(data[end + 1:])
    if sys.byteorder != "little":
        weights.byteswap()
    if len(weights) != 1 << NBITS:
        raise ValueError("weights file is truncated")
    meta = {k: v for k, v in header.items() if k not in ("nbits", "scale", "bias")}
    return Model(weights, float(header["scale"]), float(header["bias"]), meta)


_MODEL: Model | None = None


def load() -> Model:
    """The shipped model, read once (the only I/O of the rules)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = decode(WEIGHTS_PATH.read_bytes())
    return _MODEL
