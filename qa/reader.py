"""The offline reader: picks the sentence of the retrieved passages that answers the question, with a
learned probability that it does, and refuses when no sentence is likely enough.

Each sentence of the passages is a candidate, described by a few features (how much of the
question's meaning it carries, whether it holds the kind of thing asked for, where its passage
ranked ..., how answer-like its likeliest word looks to a word tagger, the answer spotter). A logistic
model fitted on the development sets (`training/train_reader.py`, card in `qa/models/README.md`)
turns the features into a probability; the threshold under which the reader
refuses was chosen on the same data. A long best candidate is cut to the few words most likely to
hold the answer (`qa.excerpt`), round the words a fitted tagger finds likeliest to be it (`qa.tagger`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from qa.chunking import is_heading, sentence_spans
from qa.conversation import REPEAT_SHARE, Said, last_answer, same_root, source_sentence, turns_to
from qa.answering import REFUSAL
from qa.excerpt import WINDOW_FEATURES, best_window, with_ellipses, without_stray_edges
from qa.holds import SPEECH_STEMS, in_full, mentions, new_figures, new_names, speaks, typed_spans
from qa.lexicon import AHEAD, ASKS_FOR_MORE, INSTRUCTION, PERSON_PRONOUNS, PRECISE_TYPES, STOPWORDS, YES_NO
from qa.questions import options, person_names
from qa.tagger import WordTagger, WordVectors, kinship, likeliest_in, word_features
from qa.text import content_stems, pieces, stem, strip_citations, words
from qa.types import Ask, Citation, Draft, Evidence, Passage, Span

MODEL_PATH = Path(__file__).resolve().parent / "models" / "reader.json"
# The ceiling for an answer that is neither a summary nor a timeline: longer candidates are cut.
MAX_WORDS = 80


# --- candidates and their features ----------------------------------------------------------------


@dataclass
class Candidate:
    """One sentence of a retrieved passage."""

    passage_rank: int
    passage: Passage
    start: int
    end: int
    text: str
    index: int  # the sentence's place in its passage
    stems: frozenset[str]
    window: frozenset[str]  # stems of the sentence and its neighbours
    sentences: int = 1  # a candidate may be two adjacent sentences: a bridge and its answer
    probability: float = 0.0
    shown: tuple[int, int] | None = None  # the part of `text` to answer with, when not all of it

    @property
    def answer_text(self) -> str:
        return self.text[self.shown[0] : self.shown[1]] if self.shown else self.text

    @property
    def answer_start(self) -> int:
        return self.start + (self.shown[0] if self.shown else 0)


def candidates(passages: Sequence[Passage], min_chars: int = 25) -> list[Candidate]:
    """The sentences of the passages, each once (overlapping chunks repeat sentences), and each pair
    of adjacent sentences: a question that names one thing and asks about another is often answered
    by the sentence that names it and the next one."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for rank, p in enumerate(passages):
        spans = [(a, b) for a, b in sentence_spans(p.chunk.text)
                 if b - a >= min_chars and not is_heading(p.chunk.text[a:b])]
        stems = [frozenset(stem(w) for w in words(p.chunk.text[a:b])) for a, b in spans]
        for i, (a, b) in enumerate(spans):
            window = stems[i].union(*stems[max(0, i - 1) : i + 2])
            text = p.chunk.text[a:b]
            if text not in seen:
                seen.add(text)
                out.append(Candidate(rank, p, a, b, text, i, stems[i], window))
            if i + 1 < len(spans) and not any(INSTRUCTION.search(p.chunk.text[x:y]) for x, y in spans[i : i + 2]):
                end = spans[i + 1][1]
                pair = p.chunk.text[a:end]
                if pair not in seen:
                    seen.add(pair)
                    both = stems[i] | stems[i + 1]
                    out.append(Candidate(rank, p, a, end, pair, i, both, both.union(*stems[max(0, i - 1) : i + 3]), 2))
    return out


FEATURES = (
    "lex",  # IDF-weighted share of the question's stems the sentence holds
    "lex_window",  # ... the sentence with its neighbours
    "lex_passage",  # ... the whole passage
    "lex_title",  # ... the article's title
    "lex_vs_best",  # lex over the best lex among the candidates
    "rarest",  # the question's rarest known stem is in the sentence
    "bigrams",  # share of the question's adjacent stem pairs the sentence repeats
    "context",  # IDF share of the conversation's stems (follow-ups)
    "typed",  # holds a new thing of the asked type (name, date, figure ...)
    "type_missing",  # the question asks for a typed thing and the sentence holds none
    "new_name",  # a capitalised name the question does not use
    "new_figure",  # a figure the question does not state
    "novelty",  # share of the sentence's content stems that are not the question's
    "passage_rank",  # fused rank of the passage, 0 = first, over k
    "dense_rank",  # rank in the embedding search (1 when absent)
    "keyword_rank",  # rank in the BM25 search (1 when absent)
    "first_passage",  # the passage ranked first
    "sentence_index",  # place of the sentence in its passage
    "article_lead",  # the passage opens the article
    "length",  # words, over 40
    "pair",  # two adjacent sentences rather than one
    "lex_vs_passage_best",  # lex over the best lex among the candidates of the same passage
    "unknown",  # share of the question's IDF weight carried by words no article uses
    "name_asked",  # a new name, and the question asks for a name, person or place
    "figure_asked",  # a new figure, and the question asks for a number or an amount
    "redundancy",  # how many other candidates repeat the sentence's most repeated new name or figure
    "title_name",  # a new name of the sentence is in the article's title too
    "neighbour_name",  # a neighbouring sentence holds a new name (the answer may sit next door)
    "similarity",  # cosine of the passage's embedding to the question's (a paraphrase shares no words)
)


def _share(weights: dict[str, float], total: float, stems: frozenset[str]) -> float:
    return sum(w for s, w in weights.items() if s in stems) / total if total else 0.0


def _bigrams(seq: list[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:]))


def features(ask: Ask, evidence: Evidence, cands: Sequence[Candidate], k: int, fetch_k: int) -> np.ndarray:
    """One row of FEATURES per candidate."""
    weights = dict(evidence.weights)
    total = sum(weights.values())
    c_weights = dict(evidence.context_weights)
    c_total = sum(c_weights.values())
    known = evidence.known
    rarest = max(weights, key=weights.get) if total else None
    q_seq = [stem(w) for w in words(ask.question) if w.lower() not in STOPWORDS]
    q_pairs = _bigrams(q_seq)
    absent = len(evidence.unknown) * evidence.absent_weight
    unknown = absent / (total + absent) if total + absent else 0.0
    answer_type = ask.kind.answer_type
    passage_cache: dict[str, tuple[float, float]] = {}
    # The answer is often the name or figure the retrieved sentences keep repeating.
    found = [(new_names(c.text, known), new_figures(c.text, known)) for c in cands]
    lowered = [c.text.lower() for c in cands]
    asks_name = answer_type in {"name", "person", "place"}
    asks_figure = answer_type in {"number", "amount"}
    # A passage outside the nearest chunks is no closer than the farthest of those retrieved; with no
    # similarity at all (passages handed over without a search) it is missing: NaN, read as the mean.
    # "How old is he?" is close to nothing in meaning (its passages are found by the conversation),
    # so a follow-up's closeness is missing too.
    floor = min((c.passage.similarity for c in cands if c.passage.similarity is not None), default=math.nan)
    rows = []
    for c, (name_matches, figure_matches) in zip(cands, found):
        names = [m.group().lower() for m in name_matches + figure_matches]
        chunk = c.passage.chunk
        if chunk.id not in passage_cache:
            passage_cache[chunk.id] = (
                _share(weights, total, frozenset(stem(w) for w in words(chunk.text))),
                _share(weights, total, frozenset(stem(w) for w in words(chunk.title or ""))),
            )
        lex_passage, lex_title = passage_cache[chunk.id]
        seq = [stem(w) for w in words(c.text) if w.lower() not in STOPWORDS]
        content = set(seq)
        typed = bool(typed_spans(c.text, answer_type, known)) if answer_type else False
        has_name = bool(name_matches)
        has_figure = bool(figure_matches)
        repeats = max((sum(n in t for t in lowered) - 1 for n in names), default=0)
        title = (chunk.title or "").lower()
        neighbours = (chunk.text[max(0, c.start - 300) : c.start], chunk.text[c.end : c.end + 300])
        rows.append([
            _share(weights, total, c.stems),
            _share(weights, total, c.window),
            lex_passage,
            lex_title,
            0.0,  # lex_vs_best, filled below
            float(rarest in c.stems) if rarest else 0.0,
            len(q_pairs & _bigrams(seq)) / len(q_pairs) if q_pairs else 0.0,
            _share(c_weights, c_total, c.window),
            float(typed),
            float(ask.kind.typed and not typed),
            float(has_name),
            float(has_figure),
            len(content - known) / max(1, len(content)),
            c.passage_rank / k,
            (c.passage.dense_rank if c.passage.dense_rank is not None else fetch_k) / fetch_k,
            (c.passage.keyword_rank if c.passage.keyword_rank is not None else fetch_k) / fetch_k,
            float(c.passage_rank == 0),
            min(c.index, 10) / 10,
            float(chunk.start == 0),
            min(len(words(c.text)), 80) / 40,
            float(c.sentences == 2),
            0.0,  # lex_vs_passage_best, filled below
            unknown,
            float(has_name and asks_name),
            float(has_figure and asks_figure),
            min(repeats, 10) / 10,
            float(any(n in title for n in names)),
            float(any(new_names(t, known) for t in neighbours)),
            math.nan if ask.kind.follow_up else floor if c.passage.similarity is None else c.passage.similarity,
        ])
    x = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
    if len(rows):
        best = x[:, 0].max()
        x[:, 4] = x[:, 0] / best if best > 0 else 0.0
        # Sentences of one passage share its passage-level features: this tells them apart.
        column = FEATURES.index("lex_vs_passage_best")
        by_passage: dict[str, float] = {}
        for c, lex in zip(cands, x[:, 0]):
            by_passage[c.passage.chunk.id] = max(by_passage.get(c.passage.chunk.id, 0.0), lex)
        for row, (c, lex) in enumerate(zip(cands, x[:, 0])):
            top = by_passage[c.passage.chunk.id]
            x[row, column] = lex / top if top > 0 else 0.0
    return x


# How answer-like the likeliest word of a candidate looks to the answer spotter: a word tagger
# (`qa.tagger`) fitted on the words of every candidate, those that hold no answer too. The sentence
# scorer reads these beside FEATURES: a sentence that repeats the question's words but holds nothing
# that answers it (the question restated) spots no answer word.
SPOTTED = (
    "answer_word",  # the probability of the candidate's likeliest answer word
    "answer_word_vs_best",  # ... less the best of all the candidates'
)
SENTENCE_FEATURES = FEATURES + SPOTTED

# The asked types an answer must hold a thing of, or be refused: a person, an age, a count. On the
# development sets the best sentence lacked one for none of 84 answerable questions for a person and
# for 1 of 39 age and count questions, answered wrong. Dates are not checked: some year or day is in
# nearly every sentence (the best sentence held one for all 114 date questions of the sets and all 15
# off-topic ones), so the check would refuse nothing; amounts are left to the fitted models.
CHECKED_TYPES = frozenset({"person", "age", "number"})


def spotted(likeliest: np.ndarray) -> np.ndarray:
    """SPOTTED of each candidate, from the probability of its likeliest answer word.

    >>> spotted(np.array([0.75, 0.25])).tolist()
    [[0.75, 0.0], [0.25, -0.5]]
    """
    if not len(likeliest):
        return np.zeros((0, len(SPOTTED)))
    return np.c_[likeliest, likeliest - likeliest.max()]


QUESTION_FEATURES = (
    "best",  # log-odds of the best candidate
    "margin",  # its probability minus the second best's
    "unknown",  # share of the question's weight carried by words no article uses
    "best_lex",  # share of the question's weight the best sentence holds
    "best_lex_passage",  # ... its passage holds
    "typed_found",  # the question asks for no typed thing, or the best sentence holds one
    "best_similarity",  # cosine of the best sentence's passage to the question
    "top_similarity",  # ... of the passage closest to the question
)


def question_features(p: np.ndarray, x: np.ndarray, typed: bool) -> np.ndarray:
    """QUESTION_FEATURES, for deciding whether the articles answer the question at all: `p` holds the
    candidates' probabilities, most probable first, and `x` their features in that order (FEATURES
    first, as SENTENCE_FEATURES has them); `typed` says whether the question asks for a typed thing.
    Training computes them with this same function.

    >>> x = np.zeros((2, len(FEATURES)))
    >>> question_features(np.array([0.5, 0.25]), x, typed=False)[:2].tolist()
    [0.0, 0.25]
    """
    first = float(p[0]) if len(p) else 0.0
    second = float(p[1]) if len(p) > 1 else 0.0
    best = min(max(first, 1e-6), 1 - 1e-6)
    row = x[0] if len(x) else np.zeros(len(FEATURES))
    similarity = FEATURES.index("similarity")
    return np.array([
        math.log(best / (1 - best)),
        first - second,
        row[FEATURES.index("unknown")],
        row[FEATURES.index("lex")],
        row[FEATURES.index("lex_passage")],
        0.0 if typed and row[FEATURES.index("type_missing")] else 1.0,
        row[similarity],
        math.nan if not len(x) or np.isnan(x[:, similarity]).all() else np.nanmax(x[:, similarity]),
    ])


# --- the model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over standardised features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict) -> "Logistic":
        return cls(tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), float(data["intercept"]))

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(label 1) of each row; a missing feature (NaN) counts as its mean, neither for nor against.

        >>> model = Logistic(("a", "b"), np.zeros(2), np.ones(2), np.array([1.0, 2.0]), 0.0)
        >>> model.probability(np.array([[0.0, math.nan], [0.0, 0.0]])).tolist()
        [0.5, 0.5]
        """
        x = np.where(np.isnan(x), self.mean, x)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class ReaderModel:
    """The sentence scorer with the answer spotter it reads, the answerability model, the excerpt
    scorer with the word tagger it reads, and the four numbers chosen with them."""

    sentence: Logistic  # P(this candidate holds the answer), from SENTENCE_FEATURES
    spotter: WordTagger  # P(this word of any candidate is part of the answer), for SPOTTED
    answerable: Logistic  # P(the articles answer the question), from QUESTION_FEATURES
    window: Logistic  # P(this window of a long candidate holds the answer), from WINDOW_FEATURES
    tagger: WordTagger  # P(this word of a sentence is part of the answer), from qa.tagger.word_features
    refuse_below: float  # answerability under which the reader refuses
    words_free: int  # the answer is the candidate with the best probability, less `words_cost` for
    words_cost: float  # each word past `words_free`
    cut_above: float  # a long answer is cut to its best window when that window is this likely to hold it

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "ReaderModel":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        parts = {name: Logistic.from_dict(data[name]) for name in ("sentence", "answerable", "window")}
        if (parts["sentence"].features, parts["answerable"].features, parts["window"].features) != (
                SENTENCE_FEATURES, QUESTION_FEATURES, WINDOW_FEATURES) or "spotter" not in data:
            raise ValueError(f"{path} was fitted on other features; rebuild it with training/train_reader.py")
        return cls(**parts, spotter=WordTagger.from_dict(data["spotter"]), tagger=WordTagger.from_dict(data["tagger"]),
                   refuse_below=float(data["refuse_below"]),
                   words_free=int(data["words_free"]), words_cost=float(data["words_cost"]), cut_above=float(data["cut_above"]))

    def worth(self, probability: float, n_words: int) -> float:
        """A candidate's probability less the cost of its length: long answers must earn their words."""
        return probability - self.words_cost * max(0, n_words - self.words_free)


# --- the answerer ---------------------------------------------------------------------------------

def new_to_conversation(sentence: str, said: Said, ask: Ask) -> bool:
    """Whether a sentence tells the conversation something new: it is not the source of an earlier
    answer's sentence, or it holds a word of the follow-up or a thing of the asked type that the
    answers lack.

    >>> from qa.questions import QuestionKind
    >>> from qa.types import Turn
    >>> earlier = (Turn("assistant", "Lawmakers voted to ratify the treaty with Ruritania. [1]"),)
    >>> ask = Ask("Was it unanimous?", QuestionKind("fact", None, True, False), earlier, asked="Was it unanimous?")
    >>> said = Said.of(ask)
    >>> new_to_conversation("On Thursday, lawmakers voted to ratify the treaty with Ruritania.", said, ask)
    False
    >>> new_to_conversation("Lawmakers voted unanimously to ratify the treaty with Ruritania.", said, ask)
    True
    >>> new_to_conversation("The treaty now goes to the upper house.", said, ask)
    True
    >>> new_to_conversation("Lawmakers voted to ratify the treaty with Ruritania, which ends a decade of border raids.", said, ask)
    True
    """
    stems = content_stems(sentence)
    own = set(stems)
    share = sum(s in said.stems for s in stems) / len(stems) if stems else 0.0
    holds = max((len(own & e) / len(e) for e in said.sentences), default=0.0)
    if share < REPEAT_SHARE and holds < REPEAT_SHARE:
        return True
    # The source of an answer that was cut short: what the answer left out may be what is asked next,
    # unless the follow-up turns to a name this sentence lacks ("And Washington?").
    if share < REPEAT_SHARE and all(n in own for n in said.names):
        return True
    if any(same_root(a, s) for a in said.asked for s in stems):
        return True
    typed = [sentence[x:y] for x, y in typed_spans(sentence, ask.kind.answer_type, set())]
    return any(not set(content_stems(t)) <= said.stems for t in typed)


def confirms(sentence: str, ask: Ask) -> bool:
    """Whether a sentence answers a yes-or-no follow-up by holding all its own words, though an
    earlier answer already said it: "Was it unanimous?" after "They voted unanimously" is answered by
    that sentence again.

    >>> from qa.questions import classify
    >>> ask = Ask("Was it unanimous?", classify("Was it unanimous?"), asked="Was it unanimous?")
    >>> confirms("Lawmakers voted unanimously to ratify it.", ask), confirms("Lawmakers voted to ratify it.", ask)
    (True, False)
    """
    own = content_stems(ask.asked or ask.question)
    if not own or not YES_NO.match(ask.asked or ask.question):
        return False
    held = content_stems(sentence)
    return all(any(same_root(a, s) or a == s for s in held) for a in own)


def said_in_passing(sentence: str, ask: Ask) -> bool:
    """Whether a sentence an earlier answer gave still answers a follow-up asking for a date, a figure
    or an age that it holds: the answer said it in passing, and the follow-up asks for it. Not when the
    follow-up asks for more than was said ("How many others?").

    >>> from qa.questions import classify
    >>> ask = lambda q: Ask(q, classify(q), asked=q)
    >>> s = "The pandas will be at the zoo by the end of the year."
    >>> said_in_passing(s, ask("When are they coming back?")), said_in_passing(s, ask("When else?"))
    (True, False)
    >>> said_in_passing(s, ask("How many pandas are coming?"))
    False
    """
    question = ask.asked or ask.question
    return (ask.kind.answer_type in PRECISE_TYPES and not ASKS_FOR_MORE.search(question)
            and bool(typed_spans(sentence, ask.kind.answer_type, set())))


def for_follow_up(cands: Sequence[Candidate], ask: Ask) -> list[Candidate]:
    """The candidates as answers to a follow-up: a sentence an earlier answer already gave, in its words
    or reworded, is dropped, unless it confirms a yes-or-no follow-up (`confirms`) or holds the date or
    figure the follow-up asks for (`said_in_passing`); a pair that opens with such a sentence keeps the
    sentence after it (scored as the pair, since following what was said is why it answers the
    follow-up). A pair that ends with one is dropped: the sentence before what was said does not carry
    the story on, and its own candidate scores it without the borrowed overlap."""
    said = Said.of(ask)
    if not said.texts:
        return list(cands)
    out = []
    for c in cands:
        spans = sentence_spans(c.text) if c.sentences == 2 else [(0, len(c.text))]
        fresh = [(a, b) for a, b in spans
                 if confirms(c.text[a:b], ask) or said_in_passing(c.text[a:b], ask)
                 or not any(c.text[a:b] in t for t in said.texts) and new_to_conversation(c.text[a:b], said, ask)]
        if len(fresh) == len(spans):
            out.append(c)
        elif fresh and fresh[0] != spans[0]:
            a, b = fresh[0][0], fresh[-1][1]
            # Shown alone, the sentence must still hold what a typed question asks for (an age, a date ...).
            # Not for a question about a person ("What did he urge?"): the pair would be scored by the
            # sentence naming them, which the answer leaves out; the sentence is scored on its own.
            if (not ask.kind.typed or typed_spans(c.text[a:b], ask.kind.answer_type, set())) and not ask.person:
                out.append(replace(c, shown=(a, b)))
    return out


def says_he(text: str) -> bool:
    """Whether a sentence speaks of a person as "he" or "she" and names no one else by name, so the
    person may be the one a follow-up asks about.

    >>> says_he("He declined to comment."), says_he("Anna Berg said he declined."), says_he("It rained.")
    (True, False, False)
    """
    return any(w.lower() in PERSON_PRONOUNS for w in words(text)) and not person_names(text)


def answering_sentence(c: Candidate) -> tuple[str, str]:
    """A candidate's answering sentence (of a pair, the second: "a bridge and its answer") and the text
    of its passage before it."""
    spans = sentence_spans(c.answer_text)
    at = spans[-1][0] if spans else 0
    return c.answer_text[at:], c.passage.chunk.text[: c.answer_start + at]


def of_person(c: Candidate, person: str) -> bool:
    """Whether a candidate's answering sentence (of a pair, the second: "a bridge and its answer")
    mentions `person`, or says "he" or "she", names no one else, and follows a mention of them; a bare
    family name stands for whoever the article last named with it."""
    sentence, before = answering_sentence(c)
    if mentions(sentence, person, before):
        return True
    # "He said ..." speaks of the last person the article named before it.
    named = person_names(before)
    return says_he(sentence) and (not named or mentions(named[-1], person, before))


def in_own_words(c: Candidate, speaker: str) -> bool:
    """Whether a candidate's answering sentence gives `speaker`'s words: they speak in it (`speaks`), or
    "he" or "she" speaks in it right after the article named them ("Kim made it clear ... He emphasized
    ...")."""
    sentence, before = answering_sentence(c)
    if speaks(sentence, speaker):
        return True
    named = person_names(before)
    return (says_he(sentence) and bool(named) and mentions(named[-1], speaker, before)
            and any(stem(w) in SPEECH_STEMS for w in words(sentence)))


def looked_further(cands: list[Candidate], further: Callable[[], Sequence[Candidate]],
                   wanted: Callable[[Candidate], bool]) -> list[Candidate]:
    """`cands`, and when none of them is `wanted`, the wanted ones of `further` (gathered only then)."""
    if any(wanted(c) for c in cands):
        return cands
    given = {c.text for c in cands}
    return cands + [c for c in further() if c.text not in given and wanted(c)]


def about_whom(ranked: Sequence[Candidate], ask: Ask) -> list[Candidate]:
    """The candidates that answer of whom a follow-up asks, when any does: "What did he say?" asks of
    the person "he" points to, so an answer (the second sentence of a pair) must mention them or say
    "he" or "she", and "What did Seoul say?" asks for words Seoul speaks; "And Moscow?" asks the last question of Moscow, so an answer must name it. When none
    does, the articles may call them otherwise, and every candidate stays."""
    out = list(ranked)
    if ask.person:
        out = [c for c in out if of_person(c, ask.person)] or out
        if ask.kind.answer_type == "speech":  # "What did he say?": his words, not words about him
            out = [c for c in out if speaks(c.answer_text, ask.person)] or out
    if ask.speaker:  # "What did Seoul say?": Seoul's words, not others' words about Seoul
        out = [c for c in out if in_own_words(c, ask.speaker)] or out
    turned = [stem(w) for w in turns_to(ask.asked or ask.question, ask.history)]
    if turned:
        out = [c for c in out if all(s in c.stems for s in turned)] or out
    return out


def told_after(ask: Ask, passages: Sequence[Passage]) -> tuple[str, int] | None:
    """Where the story the conversation follows stands: the article and the place in it of the sentence
    the last answer came from; None when no passage holds it."""
    found = source_sentence(strip_citations(last_answer(ask.history)), [p.chunk for p in passages])
    return (found[0].source, found[0].start + found[1]) if found else None


def what_comes_next(ranked: Sequence[Candidate], ask: Ask, passages: Sequence[Passage]) -> tuple[list[Candidate], int]:
    """For "What happens next?": the candidates whose answering sentence speaks of what is to come
    (AHEAD), and how many of them, first, the article the last answer came from tells: the story
    carries on there. Nothing when no candidate speaks ahead.

    >>> from qa.questions import classify
    >>> from qa.types import Chunk, Turn
    >>> text = "Lawmakers voted for the bill. The vote was close. The bill now goes to the Senate, which will vote in May."
    >>> p = Passage(Chunk("a", "a.txt", text, 0, len(text)), 1.0)
    >>> history = (Turn("user", "How did lawmakers vote?"), Turn("assistant", "Lawmakers voted for the bill. [1]"))
    >>> ask = Ask("What happens next?", classify("What happens next?", history), history)
    >>> ranked, after = what_comes_next(candidates([p]), ask, [p])
    >>> after, ranked[0].answer_text
    (2, 'The bill now goes to the Senate, which will vote in May.')
    """
    def last_sentence(c: Candidate) -> int:  # where the answering sentence (of a pair, the second) starts
        return (sentence_spans(c.answer_text) or [(0, 0)])[-1][0]

    future = [c for c in ranked if AHEAD.search(c.answer_text[last_sentence(c):])]
    where = told_after(ask, passages) if ask.kind.follow_up else None
    if where is None:
        return future, 0
    source, at = where

    def place(c: Candidate) -> int:
        return c.passage.chunk.start + c.answer_start + last_sentence(c)

    # After the last answer, nearest first; where the article tells nothing ahead after it (the answer
    # was its last word), what it says ahead before, latest first.
    told = sorted((c for c in future if c.passage.chunk.source == source),
                  key=lambda c: (place(c) < at, abs(place(c) - at), len(c.answer_text)))
    return told + [c for c in future if c not in told], len(told)


def offered_spans(question: str, text: str) -> list[tuple[int, int]]:
    """Where `text` names the things a choice question offers ("Which came first, A or B?").

    >>> offered_spans("Which opened first, the Ark or Lumen?", "Lumen opened in 1990; the ark in 1985.")
    [(26, 29), (0, 5)]
    """
    found = []
    for option in options(question) or ():
        bare = re.sub(r"^(?:the|a|an)\s+", "", option.strip("\"“”'‘’ "), flags=re.I)
        m = re.search(rf"\b{re.escape(bare)}", text, re.I) if bare else None
        if m:
            found.append(m.span())
    return found


def refusal(question: str, unknown: Sequence[str]) -> str:
    """The refusal, naming the names the question uses and no article does (the likely reason).

    >>> refusal("What did Atlantis say about it?", ["Atlantis"])
    'The articles do not mention Atlantis.'
    >>> refusal("Why did grain prices rise?", ["grain"])
    'The articles do not say.'
    """
    first = words(question)[:1]
    names = [re.sub(r"['’]s$", "", w) for w in unknown if w[:1].isupper() and [w] != first]
    return f"The articles do not mention {', '.join(dict.fromkeys(names))}." if names else REFUSAL


class ExtractiveReader:
    """An `Answerer`: the sentence (or pair of adjacent sentences) most likely to hold the answer, for
    its length, cited; a refusal when the articles are unlikely to answer. The answer's typed words
    (the name, date or figure asked for) are its span."""

    def __init__(self, model: ReaderModel | None = None, k: int = 8, fetch_k: int = 24,
                 vectors: WordVectors | None = None):
        self._model = model
        self.k = k
        self.fetch_k = fetch_k
        # The word tagger weighs how close each word is in meaning to the kind of thing asked for
        # (`qa.tagger.kinship`) with these vectors; without them it goes without, as the spotter does.
        self.vectors = vectors

    @cached_property
    def model(self) -> ReaderModel:
        return self._model or ReaderModel.load()

    def rank(self, ask: Ask, evidence: Evidence) -> tuple[list[Candidate], float]:
        """The candidates, most probable first, and the probability that the articles answer at all.
        A sentence an earlier answer of the conversation already gave is no answer to a follow-up, and
        one about someone else than the follow-up asks of is no answer either (`about_whom`); whether
        the articles answer at all is judged before that choice, on every candidate. "What happens
        next?" is answered by what is to come (`what_comes_next`), and not refused when the article
        the conversation follows tells it."""
        every = candidates(evidence.passages)
        cands = for_follow_up(every, ask)
        if ask.person:
            # All the passages say of the person was said already: better said again than someone else's.
            cands = looked_further(cands, lambda: every, lambda c: of_person(c, ask.person))
        if ask.speaker:
            # The passages quote others: the speaker's own words may sit further down the retrieved ranking.
            cands = looked_further(cands, lambda: candidates(evidence.pool), lambda c: in_own_words(c, ask.speaker))
        if not cands:
            return [], 0.0
        likeliest = self.model.spotter.likeliest([c.text for c in cands], ask.question, dict(evidence.weights),
                                                 ask.kind.answer_type, set(evidence.known))
        x = np.c_[features(ask, evidence, cands, self.k, self.fetch_k), spotted(likeliest)]
        probs = self.model.sentence.probability(x)
        for c, p in zip(cands, probs):
            c.probability = float(p)
        order = np.argsort(-probs, kind="stable")
        ranked = [cands[i] for i in order]
        row = question_features(probs[order], x[order], ask.kind.typed)
        answerable = float(self.model.answerable.probability(row))
        ranked = about_whom(ranked, ask)
        if ask.kind.answer_type == "next":
            ahead, told = what_comes_next(ranked, ask, evidence.passages)
            if told:
                # The article the conversation follows tells what comes next: answered there, whatever
                # the words of "What happens next?" share with it.
                return ahead[:told], max(answerable, self.model.refuse_below)
            ranked = ahead or ranked
        return ranked, answerable

    def answer_words(self, text: str, ask: Ask, evidence: Evidence) -> tuple[np.ndarray, dict[str, float], set[str]]:
        """Each word's probability of being part of the answer (`qa.tagger`), with the question's
        weights and known stems it was judged by. What the conversation already said would draw the
        eye back to it: a follow-up's words are those the answers lack, and the names they gave are known."""
        weights, known = dict(evidence.weights), evidence.known
        if ask.kind.follow_up:
            said = Said.of(ask)
            weights = {s: w for s, w in weights.items() if s not in said.stems} or weights
            known = known | said.stems
        kin = kinship(text, ask.question, weights, self.vectors) if self.vectors else None
        rows = word_features(text, ask.question, weights, ask.kind.answer_type, known, kin)
        return self.model.tagger.probability(rows), weights, known

    def excerpt(self, text: str, ask: Ask, weights: dict[str, float], known: set[str],
                word_p: np.ndarray) -> tuple[int, int] | None:
        """The window of a long answer text to show instead of all of it, or None to show it whole:
        the window most likely to hold the answer, when it is likely enough or the text too long."""
        found = best_window(text, weights, ask.kind.answer_type, known, word_p, self.model.window.probability)
        if found and (found[1] >= self.model.cut_above or len(text.split()) > MAX_WORDS):
            return without_stray_edges(text, *found[0])
        return None

    def answer(self, ask: Ask, evidence: Evidence) -> Draft:
        ranked, answerable = self.rank(ask, evidence)
        if not ranked or answerable < self.model.refuse_below:
            return Draft(text=refusal(ask.question, evidence.unknown), refused=True, confidence=answerable)
        # For a follow-up asking what comes next, `rank` has put the answers in the order to give them:
        # the followed article's, nearest its last answer, first.
        best = ranked[0] if ask.kind.answer_type == "next" and ask.kind.follow_up else max(
            ranked, key=lambda c: self.model.worth(c.probability, len(words(c.answer_text))))
        text, start = best.answer_text, best.answer_start
        typed = typed_spans(text, ask.kind.answer_type, evidence.known)
        if ask.kind.answer_type in CHECKED_TYPES and not typed:
            # "Who heads the agency?" answered by a sentence that names no one is no answer.
            return Draft(text=refusal(ask.question, evidence.unknown), refused=True, confidence=answerable)
        word_p, weights, known = self.answer_words(text, ask, evidence)
        cut = self.excerpt(text, ask, weights, known, word_p)
        a, b = cut or (0, len(text))
        shown = with_ellipses(text, a, b) if cut else text
        chunk = best.passage.chunk
        if ask.kind.answer_type in {"name", "person"}:  # "Who ...?" is answered with the whole name
            shown = in_full(shown, f"{chunk.title or ''}\n{chunk.text[: start + a]}")
        citation = Citation.of(1, chunk, start + a, start + b)
        spans = []
        offered = offered_spans(ask.question, text)
        if offered or ask.kind.answer_type not in {None, "speech", "reason", "next"}:
            # Of the things offered ("A or B?"), or else of the asked type, the answer holds, the one the
            # tagger finds likeliest.
            found = [(x, y) for x, y in offered or typed if a <= x and y <= b]
            if found:
                x, y = max(found, key=lambda span: likeliest_in(text, word_p, *span))
                spans.append(Span(1, start + x, start + y, text[x:y]))
        return Draft(text=f"{shown} [1]", refused=False, citations=[citation], spans=spans,
                     confidence=best.probability)

    def stream(self, ask: Ask, evidence: Evidence) -> Iterator[str | Draft]:
        draft = self.answer(ask, evidence)
        yield from pieces(draft.text, size=1)
        yield draft
