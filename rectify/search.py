"""Chinese search terms: a query typed without spaces ("关闭煤矿") becomes the words a person
would have separated ("关闭", "煤矿"), each then matched as a substring.

Words come from jieba's dictionary (precise mode, no HMM, so it never invents a word).
Characters jieba does not know as a word and that stand next to each other are kept together
("昔阳" stays one term, not "昔" and "阳"), so unknown place and unit names still match as a
whole. Chunks without Chinese ("2018", "%", "PM2.5") are kept as typed.
"""

from __future__ import annotations

import logging
import re
import threading

import jieba

MAX_TERMS = 8
# Function words that would match nearly every text and narrow nothing.
_STOP = frozenset("的了和与及或在等是对为把将")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")
_SEPARATORS = ",，、;；。.:：!！?？()（）[]【】《》“”\"'‘’"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    """One tokenizer per process; its dictionary (about half a second) loads on the first search."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def _segment(chunk: str) -> list[str]:
    terms: list[str] = []
    loose = ""  # consecutive single characters jieba found no word for
    for token in _jieba().cut(chunk, HMM=False):
        if len(token) == 1 and token not in _STOP:
            loose += token
            continue
        if loose:
            terms.append(loose)
            loose = ""
        if token not in _STOP:
            terms.append(token)
    if loose:
        terms.append(loose)
    return terms


def _pieces(chunk: str) -> list[str]:
    """Runs of Chinese are segmented; anything else between them is kept as typed, less the
    separators around it."""
    pieces: list[str] = []
    for run in _RUNS.findall(chunk):
        if _CJK.match(run):
            pieces += _segment(run)
        elif run.strip(_SEPARATORS):
            pieces.append(run.strip(_SEPARATORS))
    return pieces


def search_terms(q: str) -> list[str]:
    """The terms every match must contain, in the order typed, without repeats."""
    terms: list[str] = []
    for chunk in q.split():
        for term in _pieces(chunk):
            if term not in terms:
                terms.append(term)
    return terms[:MAX_TERMS]
