"""Retrieval and the offline answerer on small hand-made passages (no model needed)."""

from qa.answering import OfflineAnswerer, answer_type, is_follow_up, search_query
from qa.retrieval import diversify, reciprocal_rank_fusion
from qa.types import Chunk, Passage

TEXTS = {
    "a.txt": "The minister visited Oslo on Monday. She signed a fishing agreement with Norway.",
    "b.txt": "Officials counted 1,200 boats in the harbour. The count was made by the coast guard.",
    "c.txt": "The festival drew large crowds. Musicians played late into the night.",
}


def passages():
    return [Passage(Chunk(id=s, source=s, text=t, start=0, end=len(t)), 1.0) for s, t in TEXTS.items()]


def corpus_df(word):
    return sum(word.lower() in t.lower() for t in TEXTS.values())


def answerer():
    return OfflineAnswerer(doc_freq=corpus_df, total_docs=lambda: len(TEXTS), embed=None)


def test_rrf_and_diversity():
    fused = reciprocal_rank_fusion([["x", "y", "z"], ["y", "z"]])
    assert max(fused, key=fused.get) == "y"
    assert diversify([("1", "A"), ("2", "A"), ("3", "A"), ("4", "B")], 3, 1) == ["1", "4", "2"]


def test_answers_with_the_sentence_and_its_citation():
    draft = answerer().answer("Which country signed a fishing agreement?", [], passages())
    assert not draft.refused
    assert "Norway" in draft.text and draft.text.endswith("[1]")
    c = draft.citations[0]
    assert c.source == "a.txt" and c.quote == "She signed a fishing agreement with Norway."


def test_how_many_needs_a_number():
    draft = answerer().answer("How many boats were in the harbour?", [], passages())
    assert "1,200" in draft.text and draft.citations[0].source == "b.txt"


def test_refuses_names_the_corpus_never_mentions():
    draft = answerer().answer("What did Sweden say about the agreement?", [], passages())
    assert draft.refused and "Sweden" in draft.text and not draft.citations


def test_refuses_loosely_related_passages():
    draft = answerer().answer("How many musicians were paid for the festival?", [], passages())
    assert draft.refused


def test_follow_up_uses_history():
    history = [
        {"role": "user", "content": "Who counted the boats?"},
        {"role": "assistant", "content": "The count was made by the coast guard. [1]"},
    ]
    assert is_follow_up("How many did they count?", history)
    assert "coast guard" in search_query("How many did they count?", history).lower()
    draft = answerer().answer("How many did they count?", history, passages())
    assert "1,200" in draft.text


def test_answer_types():
    assert answer_type("How many soldiers?") == "number"
    assert answer_type("Which country sold tanks?") == "name"
