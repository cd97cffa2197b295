"""Questions about the whole collection (overview, a day's events, newest, catalogue, help) and
follow-ups made standalone: unit tests on hand-made articles through the real seam (Specialists over
the shipped reader, with a Collection built as the retriever builds it), and integration tests on
the seeds."""

import dataclasses

import numpy as np
import pytest

from qa.answering import Specialists
from qa.collection import derived_title, mmr, topic_words
from qa.questions import classify, standalone
from qa.reader import ExtractiveReader
from qa.retrieval import read_collection  # noqa: F401  (the builder the integration tests exercise)
from qa.types import Chunk, Collection, Passage, Turn
from tests.support.asking import ask_and_evidence

ARTICLES = {
    "a.txt": ("Parliament votes on the treaty", "2024-10-25", "Wire",
              "Parliament votes on the treaty\nOn Thursday, parliament voted unanimously to ratify the fishing treaty "
              "with Norway. The upper house will consider it next."),
    "b.txt": (None, None, None,
              "Officials counted 1,200 boats in the harbour on Wednesday after the storm passed over the coast. "
              "The count was made by the coast guard."),
    "c.txt": ("Festival draws crowds", "2024-10-20", "Daily",
              "Festival draws crowds\nThe music festival drew large crowds to the old town on Saturday night. "
              "Musicians played late into the night."),
}


def chunks() -> list[Chunk]:
    return [Chunk(id=s, source=s, text=t, start=0, end=len(t), title=ti, date=d, publisher=p)
            for s, (ti, d, p, t) in ARTICLES.items()]


def collection() -> Collection:
    from qa.collection import article_info, by_date

    cs = chunks()
    vectors = np.eye(len(cs), 4, dtype=np.float32)  # three unrelated articles
    return Collection(articles=tuple(by_date([article_info(c, 1) for c in cs])), chunks=tuple(cs),
                      vectors=vectors, article_vectors=vectors)


def answer(question, history=(), col: Collection | None = None):
    passages = [Passage(c, 1.0) for c in chunks()]
    ask, evidence = ask_and_evidence(question, passages, history)
    evidence = dataclasses.replace(evidence, collection=col if col is not None else collection())
    return Specialists(ExtractiveReader()).answer(ask, evidence)


@pytest.mark.parametrize("question,intent", [
    ("Summarize the articles", "overview"), ("Give me an overview of the treaty", "overview"),
    ("tl;dr on the festival", "overview"), ("What are these articles about?", "overview"),
    ("What happened on Thursday?", "dated"), ("Anything on Friday?", "dated"), ("What's the latest?", "dated"),
    ("Which article is most recent?", "dated"), ("Which articles do you have?", "catalogue"),
    ("How many articles are loaded?", "catalogue"), ("Who published these articles?", "catalogue"),
    ("When were the articles published?", "catalogue"), ("Hello", "help"), ("What can you do?", "help"),
    ("hi, how does this work?", "help"), ("How do the articles differ on the number of troops?", "comparison"),
    ("Do the articles agree on what the treaty promises?", "comparison"),
    # single facts stay facts
    ("What did the minister say on Tuesday?", "fact"), ("Who is the oldest living dog?", "fact"),
    ("What did it agree with Poland?", "fact"), ("Hi, who signed the treaty?", "fact"),
    ("Which event took place on May 10, 1849 in Manhattan?", "fact"),
])
def test_the_one_classifier_knows_collection_questions(question, intent):
    assert classify(question).intent == intent


def test_overview_is_a_dated_cited_digest_one_sentence_per_article():
    draft = answer("Summarize the articles")
    bullets = [line for line in draft.text.splitlines() if line.startswith("- ")]
    assert not draft.refused and 3 <= len(bullets) <= 6
    assert len({c.source for c in draft.citations}) == len(bullets)  # each from a different article
    assert len(draft.text.split()) <= 200
    assert all(line.rstrip().endswith(f"[{n}]") for n, line in enumerate(bullets, start=1))
    # in date order, undated last and labelled; a weekday resolved against the article's date
    assert "20 October 2024" in bullets[0] or "19 October 2024" in bullets[0]
    assert "24 October 2024" in bullets[1]
    assert "Wednesday (date not stated)" in bullets[2]


def test_topic_overview_keeps_the_articles_about_the_topic_not_all_near_it():
    # The embedding finds another treaty nearest (relevance); the digest is of the article naming the
    # fishing treaty, the topic's rarest word, not of every article that says "treaty".
    text = "The trade treaty with Chile was signed on Monday in Oslo."
    trade = Chunk(id="d.txt", source="d.txt", text=text, start=0, end=len(text), date="2024-10-22", publisher="Wire")
    cs = chunks() + [trade]
    col = dataclasses.replace(collection(), chunks=tuple(cs), vectors=np.eye(len(cs), 4, dtype=np.float32),
                              topic="fishing treaty", relevance=np.array([0.6, 0.1, 0.1, 0.9]))
    ask, evidence = ask_and_evidence("Give me an overview of the fishing treaty", [Passage(c, 1.0) for c in cs])
    draft = Specialists(ExtractiveReader()).answer(ask, dataclasses.replace(evidence, collection=col))
    assert {c.source for c in draft.citations} == {"a.txt"}


def test_topic_overview_finds_the_topic_named_in_passing_far_in_meaning():
    # Sixty festival reports sit nearer the topic's meaning than the one article naming the fishing
    # treaty; the keyword search finds it by its words (`topic_hits`), and the digest is of it.
    festival = [Chunk(id=f"f{i}", source=f"f{i}.txt", text=f"Stall {i} at the harbour festival sold fish to crowds on Saturday.",
                      start=0, end=60, date="2024-10-20") for i in range(60)]
    cs = festival + chunks()
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(cs), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.r_[np.linspace(0.9, 0.6, 60), [0.1, 0.1, 0.1]]
    col = dataclasses.replace(collection(), chunks=tuple(cs), vectors=vectors, topic="fishing treaty", relevance=relevance)
    ask, evidence = ask_and_evidence("Give me an overview of the fishing treaty", [Passage(c, 1.0) for c in chunks()])
    reader = Specialists(ExtractiveReader())
    assert "a.txt" not in {c.source for c in reader.answer(ask, dataclasses.replace(evidence, collection=col)).citations}
    found = dataclasses.replace(col, topic_hits=frozenset({"a.txt"}))
    assert {c.source for c in reader.answer(ask, dataclasses.replace(evidence, collection=found)).citations} == {"a.txt"}


def test_topic_words_and_mmr():
    assert topic_words("Give me an overview of the fishing treaty") == "fishing treaty"
    v = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert mmr(np.array([1.0, 0.9, 0.5]), v, 2) == [0, 2]  # the duplicate is passed over
    assert mmr(np.array([1.0, 0.9, 0.5]), np.eye(3), 3, groups=["x", "x", "y"]) == [0, 2]


def test_what_happened_on_a_weekday_lists_that_days_events_across_articles():
    draft = answer("What happened on Thursday?")
    assert "voted unanimously" in draft.text and "24 October 2024 (Thursday)" in draft.text
    draft = answer("What happened on Wednesday?")
    assert "1,200 boats" in draft.text and "Wednesday (date not stated)" in draft.text
    draft = answer("What happened on Friday?")
    assert draft.refused


def test_latest_uses_publication_dates_and_catalogue_lists_everything():
    draft = answer("Which article is most recent?")
    assert "Parliament votes on the treaty" in draft.text and "25 October 2024" in draft.text
    assert "1 of the 3 articles do not state a date" in draft.text
    draft = answer("Which articles do you have?")
    assert draft.text.startswith("Loaded: 3 articles, published 20 October 2024 to 25 October 2024")
    assert "“Officials counted 1,200 boats in the harbour on Wednesday after the storm…” (date not stated)" in draft.text


def test_help_names_the_collection_and_is_never_a_refusal():
    draft = answer("Hello")
    assert not draft.refused and "3 articles" in draft.text and "Ask" in draft.text
    empty = Collection(articles=())
    assert not answer("What can you do?", col=empty).refused


def test_derived_title():
    assert derived_title("Headline\nThe house voted on Thursday to approve the treaty.") == \
        "The house voted on Thursday to approve the treaty"
    assert derived_title("one two three four five six seven eight nine ten eleven twelve thirteen.", 5) == \
        "one two three four five…"


def test_follow_ups_are_rewritten_to_stand_alone():
    h = [Turn("user", "Who is Andrzej Duda?"), Turn("assistant", "Andrzej Duda is the Polish President. [1]")]
    assert standalone("How long is his visit?", h).startswith("How long is Andrzej Duda's visit?")
    h = [Turn("user", "What did Russia's lower house vote on?"), Turn("assistant", "It voted to ratify the treaty. [1]")]
    assert "lower house vote" in standalone("When?", h)
    h2 = h + [Turn("user", "When?"), Turn("assistant", "The vote took place on Thursday. [1]")]
    assert "lower house vote" in standalone("Was it unanimous?", h2)
    assert "lower house" in standalone("What happens next?", h)
    assert standalone("Which Russian ambassador did Seoul summon?", h) == "Which Russian ambassador did Seoul summon?"
    assert classify("When?", h).intent == "fact"


def test_a_follow_up_reaches_the_passage_the_conversation_is_about():
    h = [Turn("user", "What did parliament vote on?"),
         Turn("assistant", "On Thursday, parliament voted unanimously to ratify the fishing treaty with Norway. [1]")]
    draft = answer("What happens next?", h)
    assert not draft.refused and draft.citations[0].source == "a.txt"


# --- on the seeds, with the real model and store --------------------------------------------------


@pytest.mark.integration
def test_seeds_overview_dated_catalogue_and_help(seeds_assistant):
    a = seeds_assistant
    overview = a.answer("Summarize the articles")
    assert not overview.refused and len({c.source for c in overview.citations}) >= 3
    assert len(overview.text.split()) <= 200
    thursday = a.answer("What happened on Thursday?")
    assert "unanimously" in thursday.text
    assert "29 October 2024" in a.answer("Which article is most recent?").text
    catalogue = a.answer("Which articles do you have?").text
    assert "5 articles" in catalogue and "Monitors" in catalogue and "date not stated" in catalogue
    assert "5 articles" in a.answer("Hello").text
    differ = a.answer("How do the articles differ on the number of troops?").text
    assert all(x in differ for x in ("1,500", "3,000", "10,000"))


@pytest.mark.integration
def test_seeds_follow_up_through_history_is_answered(seeds_assistant):
    first = seeds_assistant.answer("Who is Andrzej Duda?")
    history = [{"role": "user", "content": "Who is Andrzej Duda?"}, {"role": "assistant", "content": first.text}]
    ask = seeds_assistant.read("How long is his visit?", history)
    assert ask.question.startswith("How long is Andrzej Duda's visit?") and ask.asked == "How long is his visit?"
    # Answered from Duda's article, not refused (which of its sentences is chosen is the reader's).
    follow = seeds_assistant.answer("How long is his visit?", history=history)
    assert not follow.refused and "Duda" in follow.text


@pytest.mark.integration
def test_seeds_collection_is_cached_per_index_version(seeds_assistant):
    r = seeds_assistant.retriever
    assert r.collection() is r.collection()
    assert {a.source for a in r.collection().articles} == set(seeds_assistant.store.sources())


@pytest.mark.integration
def test_seeds_topic_overview_gets_the_chunks_its_words_find(seeds_assistant):
    ask = seeds_assistant.read("Give me an overview of the balloon that landed in Seoul")
    col = seeds_assistant.retriever.collection_for(ask)
    balloon = {c.id for c in col.chunks if "balloon" in c.text.lower()}
    assert balloon and balloon <= col.topic_hits <= {c.id for c in col.chunks}
