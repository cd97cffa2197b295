"""What a conversation has already said, for answering its follow-ups: the earlier answers as stems
(`Said`), and where in the articles the last answer was taken from (`source_sentence`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from qa.chunking import sentence_spans
from qa.lexicon import TURN
from qa.text import content_stems, stem, strip_citations, words

if TYPE_CHECKING:
    from qa.types import Ask, Chunk, Turn

# A sentence an earlier answer was cut or reworded from (an LLM's answer, the user's own summary) holds
# most of that answer's content words, or has most of its own words in the answers. Measured on the
# follow-ups of qa/eval/conversations.jsonl: the sentences the earlier answers came from hold 0.82-1.0 of
# an answer sentence's stems; the sentences that answer the follow-ups at most 0.69, and at most 0.61 of
# their own stems are in the answers. 0.75 sits between the two.
REPEAT_SHARE = 0.75

# The weight of a word a follow-up borrows from the conversation ("When? (the vote on the treaty)"),
# relative to the follow-up's own words: what it asks now counts most. Measured on the follow-ups of
# qa/eval/conversations.jsonl (answer accuracy 0.847 at 1, 0.864 at 0.75, 0.881 from 0.5 down to 0.25,
# 0.814 at 0.1, 0.712 at 0): the middle of the plateau.
LENT_WEIGHT = 0.35


def same_root(a: str, b: str) -> bool:
    """Stems of one word, where the light stemmer leaves them apart ("unanimous", "unanimously").

    >>> same_root("unanim", "unanimously"), same_root("war", "warn")
    (True, False)
    """
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and long.startswith(short)


def turns_to(question: str, history: Sequence[Turn]) -> tuple[str, ...]:
    """The names a follow-up turns the last question to: the capitalised words, past its first, of a
    follow-up opening with "and", "what about" ..., that the conversation has not used yet.

    >>> from qa.types import Turn
    >>> h = [Turn("user", "What did Rome say about the talks?"), Turn("assistant", "Rome welcomed them. [1]")]
    >>> turns_to("And Madrid?", h), turns_to("And what did Rome add?", h), turns_to("What did Madrid say?", h)
    (('Madrid',), (), ())
    """
    if not history or not TURN.match(question):
        return ()
    used = set(content_stems(" ".join(t.content for t in history)))
    return tuple(w for w in words(question)[1:] if w[:1].isupper() and stem(w) not in used)


def lent_down(weights: dict[str, float], ask: "Ask") -> dict[str, float]:
    """A follow-up's question weights with the words lent by the conversation weighed down by
    LENT_WEIGHT; the weights as they are for a question that stands alone, or whose own words are
    all stopwords ("When?").

    >>> from qa.questions import read_question
    >>> from qa.types import Turn
    >>> ask = read_question("Who signed it?", [Turn("user", "What did lawmakers ratify?"), Turn("assistant", "A treaty. [1]")])
    >>> lent_down({"sign": 2.0, "lawmak": 2.0, "ratifi": 1.0}, ask)
    {'sign': 2.0, 'lawmak': 0.7, 'ratifi': 0.35}
    """
    if not ask.kind.follow_up or not ask.asked:
        return weights
    own = set(content_stems(f"{ask.asked} {ask.person}"))
    if not own & weights.keys():
        return weights
    return {s: w if s in own else w * LENT_WEIGHT for s, w in weights.items()}


@dataclass(frozen=True)
class Said:
    """What the conversation's earlier answers said, as stems, read once per follow-up; and the words
    of the follow-up those answers lack."""

    texts: tuple[str, ...]  # the answers, without their citations
    sentences: tuple[frozenset[str], ...]  # the stems of each answer sentence that has four or more
    stems: frozenset[str]  # every answer's stems
    asked: tuple[str, ...]  # the follow-up's own stems that no answer holds
    names: tuple[str, ...]  # the stems of the follow-up's capitalised words but its first ("And Washington?")

    @classmethod
    def of(cls, ask: "Ask") -> "Said":
        texts = tuple(strip_citations(t.content) for t in ask.history if t.role == "assistant")
        stems = [content_stems(text[a:b]) for text in texts for a, b in sentence_spans(text)]
        every = frozenset(s for sentence in stems for s in sentence)
        question = ask.asked or ask.question
        asked = tuple(a for a in content_stems(question) if a not in every)
        first = words(question)[:1]
        names = tuple(stem(w) for w in words(question) if w[:1].isupper() and [w] != first)
        return cls(texts, tuple(frozenset(x) for x in stems if len(x) >= 4), every, asked, names)


def last_answer(history: Sequence["Turn"]) -> str:
    """The conversation's last answer, as it was given ("" when there is none)."""
    return next((t.content for t in reversed(history) if t.role == "assistant"), "")


def source_sentence(answer: str, chunks: Sequence["Chunk"]) -> tuple["Chunk", int, int] | None:
    """The chunk and the span of the sentence an answer's first sentence was taken from: the one holding
    the largest share (at least REPEAT_SHARE) of its content stems; None when no sentence holds that much.

    >>> from qa.types import Chunk
    >>> c = Chunk("a", "a.txt", "Lawmakers met on Monday. They voted to ratify the treaty with Ruritania.", 0, 72)
    >>> chunk, start, end = source_sentence("Lawmakers voted to ratify the Ruritania treaty. [1]", [c])
    >>> c.text[start:end]
    'They voted to ratify the treaty with Ruritania.'
    """
    text = strip_citations(answer)
    first = sentence_spans(text)[:1]
    wanted = set(content_stems(text[first[0][0] : first[0][1]] if first else text))
    read = []  # each chunk's sentences and their stems, read once for both widths
    for chunk in chunks:
        spans = sentence_spans(chunk.text)
        read.append((chunk, spans, [set(content_stems(chunk.text[a:b])) for a, b in spans]))
    # An answer may join two sentences into one: the pair is its source then, if no sentence alone is.
    for width in (1, 2):
        best, best_share = None, REPEAT_SHARE
        for chunk, spans, stems in read:
            for i in range(len(spans) - width + 1):
                held = set().union(*stems[i : i + width])
                share = len(wanted & held) / len(wanted) if wanted else 0.0
                if share > best_share or (best is None and share >= best_share):
                    best, best_share = (chunk, spans[i][0], spans[i + width - 1][1]), share
        if best:
            return best
    return None
