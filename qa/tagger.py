"""Which words of a sentence answer the question: a sparse logistic model over each word's features.

The excerpt (`qa.excerpt`) shows a window of a long answer; the window must hold the few words that
answer ("Tony Scott" in "... a 2004 crime thriller directed by Tony Scott from a screenplay by ...").
For every whitespace word of the sentence, `word_features` says what kind of word it is (a figure, a
capitalised name, a word of the question), what the question asks for ("who", "how many", the noun a
"which" question names), how close it is in meaning to the kind of thing asked for (`kinship`: "bear" to
"animal", "Jupiter" to "planet"), how far it is from the question's words and which words stand beside it.
The weights are fitted on the development sets by `training/train_reader.py`; a feature the fitting
data saw too seldom has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Protocol, Sequence

import numpy as np

from qa.excerpt import token_spans
from qa.holds import new_figures, new_names, typed_spans
from qa.lexicon import ASKED_NOUN, ASKING, KIND_WORDS, STOPWORDS
from qa.questions import options
from qa.text import stem, words


def asking(question: str) -> str:
    """The words that say what a question asks for.

    >>> asking("How many troops were sent?"), asking("In which city did they meet?"), asking("Name it.")
    ('how many', 'which', 'none')
    """
    low = question.lower()
    return next((w for w in ASKING if re.search(rf"\b{w}\b", low)), "none")


def _asked_word(question: str) -> str | None:
    """The noun a "which" or "what" question names its answer by, in lower case."""
    m = ASKED_NOUN.search(question)
    return None if not m or m.group(1).lower() in STOPWORDS else m.group(1).lower()


def asked_noun(question: str) -> str | None:
    """The stem of the noun a "which" or "what" question names its answer by.

    >>> asked_noun("Which magazine was started first?"), asked_noun("What is the name of the river?")
    ('magazine', 'river')
    >>> asked_noun("What did he say?") is None
    True
    """
    word = _asked_word(question)
    return stem(word) if word else None


def kind_word(question: str) -> str | None:
    """The word for the kind of thing a question asks for: the noun a "which" or "what" question names,
    else the word its asking stands for (`qa.lexicon.KIND_WORDS`).

    >>> kind_word("The probe is headed towards which planet?"), kind_word("Who won?"), kind_word("Why?")
    ('planet', 'person', None)
    """
    return _asked_word(question) or KIND_WORDS.get(asking(question))


class WordVectors(Protocol):
    """Unit vectors for short texts: `qa.embedding.MiniLMEmbeddings`, or a test's fake."""

    def embed_array(self, texts: list[str], cache: bool = False) -> np.ndarray: ...


def _bare(word: str) -> str:
    """A whitespace word without the punctuation around it, in lower case.

    >>> _bare('"Poltergeist",')
    'poltergeist'
    """
    return re.sub(r"^\W+|\W+$", "", word).lower()


def kinship(text: str, question: str, weights: Mapping[str, float], vectors: WordVectors) -> list[float | None]:
    """The cosine of each whitespace word of `text` to the question's `kind_word`, embedded alone: the
    answer to "Which breed won?" is a word near "breed" ("schnauzer"), not the name beside the question's
    words ("Madison Square Garden"). None for the question's own words (`weights`), stop words and
    punctuation, and for every word when the question names no kind."""
    kind = kind_word(question)
    bare = [_bare(text[a:b]) for a, b in token_spans(text)]
    judged = [bool(w) and w not in STOPWORDS and not {stem(x) for x in words(w)} & weights.keys() for w in bare]
    if kind is None or not any(judged):
        return [None] * len(bare)
    unique = sorted({w for w, j in zip(bare, judged) if j})
    vectors_of = vectors.embed_array([kind] + unique, cache=True)
    cosine = dict(zip(unique, (vectors_of[1:] @ vectors_of[0]).tolist()))
    return [cosine[w] if j else None for w, j in zip(bare, judged)]


def _kin(cosine: float | None) -> str:
    """A cosine in bins a tenth wide from 0.2, the 10th percentile of a candidate word's cosine to its
    question's kind word, to 0.5, past the 95th (dev sets, `training/train_reader.py`).

    >>> [_kin(c) for c in (None, 0.1, 0.35, 0.7)]
    ['none', '<0.2', '0.3', '0.5+']
    """
    if cosine is None:
        return "none"
    return "<0.2" if cosine < 0.2 else "0.5+" if cosine >= 0.5 else f"{int(cosine * 10) / 10:.1f}"


def _distance(d: int | None) -> str:
    """A distance in words, in bins: 1 to 4 each, then 5-8, then 9 and more."""
    return "none" if d is None else str(d) if d <= 4 else "5-8" if d <= 8 else "9+"


def _shape(word: str) -> str:
    """
    >>> [_shape(w) for w in ("1,200", '"Poltergeist', "crime", "—")]
    ['digit', 'cap', 'lower', 'punct']
    """
    bare = word.lstrip("\"“‘'(")
    if any(ch.isdigit() for ch in word):
        return "digit"
    if bare[:1].isupper():
        return "cap"
    return "lower" if any(ch.isalpha() for ch in word) else "punct"


def word_features(text: str, question: str, weights: Mapping[str, float], answer_type: str | None,
                  known: set[str], kin: Sequence[float | None] | None = None) -> list[dict[str, float]]:
    """The features of each whitespace word of `text` (as `qa.excerpt.token_spans` splits it), named.
    `weights` are the question's stems (`Evidence.weights`), `known` the stems it names, `kin` each
    word's `kinship` when it was measured (the tagger's; the answer spotter, which reads every
    candidate, goes without)."""
    spans = token_spans(text)
    raw = [text[a:b] for a, b in spans]
    bare = [_bare(w) for w in raw]
    stems_of = [{stem(w) for w in words(r)} for r in raw]
    asked = [bool(found & weights.keys()) for found in stems_of]
    # "Which came first, A or B?" is answered by A or B: words of the question, yet the answer.
    offered = {stem(w) for o in options(question) or () for w in words(o) if w.lower() not in STOPWORDS}

    def covered(found: list[tuple[int, int]]) -> list[bool]:
        return [any(x < b and a < y for x, y in found) for a, b in spans]

    typed = covered(typed_spans(text, answer_type, known)) if answer_type else [False] * len(spans)
    names = covered([m.span() for m in new_names(text, known)])
    figures = covered([m.span() for m in new_figures(text, known)])
    wants, kind = asking(question), answer_type or "none"
    noun = asked_noun(question)
    asked_at = [i for i, a in enumerate(asked) if a]
    noun_at = [i for i, w in enumerate(bare) if noun and stem(w) == noun]
    out: list[dict[str, float]] = []
    quotes = brackets = 0
    for i, word in enumerate(raw):
        shape = _shape(word)
        before = max((j for j in asked_at if j < i), default=None)
        after = min((j for j in asked_at if j > i), default=None)
        f = {
            f"shape={shape}": True, f"{kind}|{shape}": True, f"{wants}|{shape}": True,
            "asked": asked[i], "stopword": bare[i] in STOPWORDS,
            "offered": bool(stems_of[i] & offered), f"{wants}|offered": bool(stems_of[i] & offered),
            "typed": typed[i], f"{kind}|typed": typed[i],
            "name": names[i], f"{wants}|name": names[i], "figure": figures[i], f"{wants}|figure": figures[i],
            "after_asked=" + _distance(i - before if before is not None else None): True,
            "before_asked=" + _distance(after - i if after is not None else None): True,
            "after_noun=" + _distance(min((i - j for j in noun_at if j < i), default=None)): True,
            "before_noun=" + _distance(min((j - i for j in noun_at if j > i), default=None)): True,
            "previous=" + (bare[i - 1] if i else "<start>"): True,
            "next=" + (bare[i + 1] if i + 1 < len(raw) else "<end>"): True,
            "second_previous=" + (bare[i - 2] if i > 1 else "<start>"): True,
            "quoted": quotes % 2 == 1, "bracketed": brackets > 0,
            f"{shape}|after_asked": bool(i and asked[i - 1]),
        }
        if kin is not None:
            near = _kin(kin[i])
            f.update({f"kin={near}": True, f"{wants}|kin={near}": True, f"{shape}|kin={near}": True})
        quotes += sum(word.count(q) for q in "\"“”")
        brackets = max(0, brackets + word.count("(") - word.count(")"))
        out.append({k: 1.0 for k, v in f.items() if v})
    return out


@dataclass(frozen=True)
class WordTagger:
    """P(a word is part of the answer), from its named features: a logistic model with sparse weights."""

    weights: Mapping[str, float]
    intercept: float

    @classmethod
    def from_dict(cls, data: dict) -> "WordTagger":
        return cls(dict(data["weights"]), float(data["intercept"]))

    def probability(self, rows: list[dict[str, float]]) -> np.ndarray:
        z = np.array([sum(self.weights.get(k, 0.0) * v for k, v in row.items()) for row in rows]) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def likeliest(self, texts: Sequence[str], question: str, weights: Mapping[str, float], answer_type: str | None,
                  known: set[str]) -> np.ndarray:
        """The probability of each text's likeliest answer word (0 for a text without words)."""
        return np.array([self.probability(word_features(text, question, weights, answer_type, known)).max(initial=0.0)
                         for text in texts])


def likeliest_in(text: str, word_p: np.ndarray, start: int, end: int) -> float:
    """The probability of the likeliest answer word among the words of `text` that `text[start:end]`
    touches, `word_p` giving each word's.

    >>> likeliest_in("directed by Ann Lee in May", np.array([0.1, 0.2, 0.9, 0.8, 0.1, 0.3]), 12, 19)
    0.9
    """
    return max((float(p) for (a, b), p in zip(token_spans(text), word_p) if a < end and start < b), default=0.0)
