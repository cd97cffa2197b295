"""Retrieval helpers and the offline reader on small hand-made passages (the shipped reader model;
no embedding model or store needed)."""

from qa.answering import Specialists
from qa.questions import answer_type, conversation_context, is_follow_up
from qa.reader import ExtractiveReader, candidates
from qa.retrieval import diversify, reciprocal_rank_fusion
from qa.spelling import Speller
from qa.types import Chunk, Passage, Turn
from tests.support.asking import ask_and_evidence

TEXTS = {
    "a.txt": "The minister visited Oslo on Monday. She signed a fishing agreement with Norway.",
    "b.txt": "Officials counted 1,200 boats in the harbour. The count was made by the coast guard.",
    "c.txt": "The festival drew large crowds. Musicians played late into the night.",
}


def passages():
    return [Passage(Chunk(id=s, source=s, text=t, start=0, end=len(t)), 1.0) for s, t in TEXTS.items()]


def answer(question, history=()):
    return Specialists(ExtractiveReader()).answer(*ask_and_evidence(question, passages(), history))


def test_rrf_and_diversity():
    fused = reciprocal_rank_fusion([["x", "y", "z"], ["y", "z"]])
    assert max(fused, key=fused.get) == "y"
    assert diversify([("1", "A"), ("2", "A"), ("3", "A"), ("4", "B")], 3, 1) == ["1", "4", "2"]


def test_answers_with_the_sentence_and_its_citation():
    draft = answer("Which country signed a fishing agreement?")
    assert not draft.refused
    assert "Norway" in draft.text and draft.text.endswith("[1]")
    c = draft.citations[0]
    # A short sentence may come with the one before it, which says who "she" is.
    assert c.source == "a.txt" and c.quote.endswith("She signed a fishing agreement with Norway.")
    assert c.text[c.start : c.end] == c.quote and draft.text == f"{c.quote} [1]"
    assert 0.0 <= draft.confidence <= 1.0


def test_how_many_answers_with_the_figure_as_its_span():
    draft = answer("How many boats were in the harbour?")
    assert "1,200" in draft.text and draft.citations[0].source == "b.txt"
    assert [s.text for s in draft.spans] == ["1,200"]
    span = draft.spans[0]
    assert draft.citations[0].text[span.start : span.end] == "1,200"


def test_refuses_loosely_related_passages():
    assert answer("How many musicians were paid for the festival?").refused
    assert answer("How old is the minister?").refused  # named in the passages, but no age is given


def test_follow_up_uses_history():
    history = [Turn("user", "Who counted the boats?"), Turn("assistant", "The count was made by the coast guard. [1]")]
    assert is_follow_up("How many did they count?", history)
    assert "coast guard" in conversation_context("How many did they count?", history).lower()
    assert "1,200" in answer("How many did they count?", history).text


def test_answer_types():
    assert answer_type("How many soldiers?") == "number"
    assert answer_type("Which company sold tanks?") == "name"
    assert answer_type("Which country sold tanks?") == "place"
    assert answer_type("How old is she?") == "age"


def test_speller_reads_a_misspelt_word_as_a_corpus_word():
    speller = Speller({"harbour": 3, "minister": 2, "norway": 1})
    assert speller.correct("harbur") == "harbour" and speller.correct("ministr") == "minister"
    assert speller.correct("festival") is None


def test_follow_up_gets_news_not_the_earlier_answer_reworded():
    # The earlier answer was cut from the harbour sentence (as an LLM or a user would word it): the
    # follow-up is answered by what the articles say next, not by that sentence again.
    history = [Turn("user", "How many boats were in the harbour?"),
               Turn("assistant", "Officials counted 1,200 boats. [1]")]
    draft = answer("Who made the count?", history)
    assert draft.text == "The count was made by the coast guard. [1]"
    # ... unless the sentence holds what the follow-up asks and the earlier answer left out.
    history = [Turn("user", "What did the minister sign?"), Turn("assistant", "She signed an agreement with Norway. [1]")]
    assert "fishing" in answer("What kind of agreement, fishing?", history).text


def test_an_elliptical_follow_up_asks_for_what_the_last_question_asked():
    from qa.questions import classify

    history = [Turn("user", "How many boats did the coast guard count?"), Turn("assistant", "1,200. [1]")]
    kind = classify("And the harbour police?", history)
    assert kind.follow_up and kind.answer_type == "number" and kind.asks_quantity
    assert classify("And what did the police say?", history).answer_type == "speech"  # its own question
    assert classify("And the harbour police?").answer_type is None  # nothing to lean on


HARBOUR = ("The port authority met on Monday to review the season. The council closed the north harbour to "
           "ferries, citing storm damage to the main pier. Repairs to the pier will start in the spring, "
           "officials said.")


def test_a_follow_up_reads_on_from_the_earlier_answer():
    chunk = Chunk(id="h", source="h.txt", text=HARBOUR, start=0, end=len(HARBOUR))
    history = [Turn("user", "What did the council close?"),
               Turn("assistant", "The council closed the north harbour to ferries. [1]")]
    reader = Specialists(ExtractiveReader())

    def follow(question):
        return reader.answer(*ask_and_evidence(question, [Passage(chunk, 1.0)] + passages(), history)).text

    # What the earlier answer cut from its sentence is news: the reason it left out.
    assert "storm damage" in follow("Why?")
    # What comes next follows the earlier answer's sentence; the one before it does not carry the story on.
    assert "Repairs" in follow("What happens next?")


def test_the_retriever_looks_first_where_the_last_answer_came_from(tmp_path, fake_embeddings):
    from qa.assistant import Assistant
    from qa.config import Config

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = " ".join(f"Sentence {i} of the report says little about boats." for i in range(30))
    (corpus / "long.txt").write_text(f"{filler} The council closed the north harbour to ferries. "
                                     f"Repairs to the pier will start in the spring. {filler}", encoding="utf-8")
    (corpus / "other.txt").write_text("The festival drew large crowds to the harbour on Friday.", encoding="utf-8")
    assistant = Assistant(Config.from_env(store_dir=tmp_path / "store", corpus_dirs=(corpus,)), fake_embeddings)
    history = [{"role": "user", "content": "What did the council close?"},
               {"role": "assistant", "content": "The council closed the north harbour to ferries. [1]"}]
    first, second = assistant.retriever.evidence(assistant.read("What happens next?", history)).passages[:2]
    assert "closed the north harbour" in first.chunk.text
    assert second.chunk.source == "long.txt" and second.chunk.start > first.chunk.start
    # A question on its own is searched for as it is.
    alone = assistant.retriever.evidence(assistant.read("What drew large crowds?")).passages
    assert alone[0].chunk.source == "other.txt"


# One sentence of more than 80 words: no answer is shown that long, so it is cut to its best window.
LONG = ("The regional council, which met for four hours on Tuesday evening in the old town hall with more than two "
        "hundred residents watching from the gallery and many more following the stream online, debated the "
        "long-delayed plan for a new bridge across the river, a plan that has divided the town for more than a "
        "decade, and in the end approved the bridge plan by a vote of 31 to 9, so that construction can begin next "
        "spring with money from the national government.")


def test_a_long_answer_is_cut_to_the_words_that_hold_it():
    chunk = Chunk(id="d.txt", source="d.txt", text=LONG, start=0, end=len(LONG))
    reader = Specialists(ExtractiveReader())
    draft = reader.answer(*ask_and_evidence("How many council members voted against the bridge plan?",
                                            [Passage(chunk, 1.0)] + passages()))
    assert len(LONG.split()) > 80
    assert not draft.refused and "31 to 9" in draft.text
    assert len(draft.text.split()) <= 30 and "…" in draft.text
    quote = draft.citations[0].quote
    # Marked where it cuts the sentence, and only there.
    marked = ("" if LONG.startswith(quote) else "…") + quote + ("" if LONG.endswith(quote) else "…")
    assert quote in LONG and draft.text == f"{marked} [1]" and marked != quote
    span = draft.spans[0]
    assert draft.citations[0].text[span.start : span.end] == span.text and span.text in quote


def test_no_answer_runs_past_eighty_words():
    sentence = "The harbour master said " + ", ".join(f"boat {n} came in at dawn" for n in range(1, 25)) + "."
    chunk = Chunk(id="e.txt", source="e.txt", text=sentence, start=0, end=len(sentence))
    draft = Specialists(ExtractiveReader()).answer(*ask_and_evidence("What did the harbour master say about the boats?",
                                                                     [Passage(chunk, 1.0)]))
    assert not draft.refused and len(sentence.split()) > 80
    assert len(draft.text.split()) <= 30 and draft.citations[0].quote in sentence


PORT = ("Jean Dupont, the port's director, met the council on Monday. Anna Berg, the mayor, said the harbour "
        "would reopen in May. Later, Dupont said the repairs would cost twice what was planned. The council "
        "voted unanimously to pay for them. Rome welcomed the vote, a spokesman said. Madrid called the vote "
        "premature.")


def follow_port(question, history):
    chunk = Chunk(id="p", source="p.txt", text=PORT, start=0, end=len(PORT), date="2024-10-31")
    return Specialists(ExtractiveReader()).answer(*ask_and_evidence(question, [Passage(chunk, 1.0)] + passages(), history))


def test_a_follow_up_about_him_is_answered_by_what_he_said_not_by_someone_else():
    history = [Turn("user", "Who is Jean Dupont?"), Turn("assistant", "Jean Dupont is the port's director. [1]")]
    draft = follow_port("What did he say?", history)
    # (The mayor's sentence before it may come along, as the bridge of a pair; the answer is his.)
    assert draft.text.endswith("Later, Dupont said the repairs would cost twice what was planned. [1]")


def test_and_x_asks_the_last_question_of_x():
    history = [Turn("user", "What did Rome say about the vote?"), Turn("assistant", "Rome welcomed the vote. [1]")]
    assert "Madrid called the vote premature" in follow_port("And Madrid?", history).text


def test_a_yes_or_no_follow_up_is_answered_by_the_sentence_that_says_so_though_already_said():
    history = [Turn("user", "How did the council vote?"),
               Turn("assistant", "The council voted unanimously to pay for them. [1]")]
    assert "unanimously" in follow_port("Was it unanimous?", history).text


def test_a_weekday_in_an_answer_to_when_gets_its_date_from_the_article():
    draft = follow_port("When did Jean Dupont meet the council?", [])
    assert "Monday" in draft.text and "(Monday: 28 October 2024, counted from the article's date.)" in draft.text


def test_a_family_name_said_alone_stands_for_the_person_the_article_named_last():
    text = ("The vice minister, Kim Hong Kyun, met the envoy on Monday. Kim urged the envoy to leave the city. "
            "Kim Jong Gyu, a deputy minister, said the talks had been useful.")
    chunk = Chunk(id="k", source="k.txt", text=text, start=0, end=len(text))
    history = [Turn("user", "Who is Kim Jong Gyu?"), Turn("assistant", "Kim Jong Gyu is a deputy minister. [1]")]
    draft = Specialists(ExtractiveReader()).answer(*ask_and_evidence("What did he say?", [Passage(chunk, 1.0)], history))
    # "Kim urged ..." is Kim Hong Kyun's: it may only come along as the bridge before his own sentence,
    # which the earlier answer was cut from and which is said again rather than someone else's words.
    assert draft.text.endswith("said the talks had been useful. [1]")


def test_what_did_he_say_is_answered_by_his_words_not_by_words_about_him():
    from qa.reader import about_whom, candidates

    text = ("In response, Rome summoned the ambassador, Jean Dupont, to protest the deployment. "
            "In response, Dupont stated that he would pass the concerns on to his government.")
    chunk = Chunk(id="r", source="r.txt", text=text, start=0, end=len(text))
    history = [Turn("user", "Which ambassador did Rome summon?"), Turn("assistant", "Rome summoned Jean Dupont. [1]")]
    ask, _ = ask_and_evidence("What did he say in response?", [Passage(chunk, 1.0)], history)
    assert ask.person == "Jean Dupont" and ask.kind.answer_type == "speech"
    singles = [c for c in candidates([Passage(chunk, 1.0)]) if c.sentences == 1]
    # Both sentences mention him; only the second is his words.
    assert [c.text[:22] for c in about_whom(singles, ask)] == ["In response, Dupont st"]


def test_what_happens_next_is_answered_by_what_the_followed_article_says_is_to_come():
    text = ("Lawmakers approved the bill on Wednesday by 352 votes to 65. The tally surprised observers. "
            "The bill now goes to the Senate, where it is expected to face a harder fight. Opponents protested outside.")
    elsewhere = "The festival will return next year with more stages."  # ahead too, but another story
    chunks = [Chunk(id=s, source=s, text=t, start=0, end=len(t)) for s, t in (("v.txt", text), ("f.txt", elsewhere))]
    history = [Turn("user", "How did lawmakers vote on the bill?"),
               Turn("assistant", "Lawmakers approved the bill on Wednesday by 352 votes to 65. [1]")]
    ask, evidence = ask_and_evidence("What happens next?", [Passage(c, 1.0) for c in chunks] + passages(), history)
    assert ask.kind.answer_type == "next"
    draft = Specialists(ExtractiveReader()).answer(ask, evidence)
    assert not draft.refused and "goes to the Senate" in draft.text and "festival" not in draft.text


def test_who_is_answered_with_the_whole_name_the_article_gave_before():
    text = ("Quarterback Tom Brady, 45, signed a new contract in March with the team. The deal runs for two "
            "more seasons and pays him more than any player before. "
            "On Sunday the league named Brady its most valuable player for the season.")
    chunk = Chunk(id="b", source="b2.txt", text=text, start=0, end=len(text))
    draft = Specialists(ExtractiveReader()).answer(*ask_and_evidence("Who did the league name its most valuable player?",
                                                                     [Passage(chunk, 1.0)] + passages()))
    # The article's own words, with the rest of the name in the editor's brackets.
    assert "[Tom] Brady" in draft.text and draft.citations[0].quote in text


def test_a_name_never_runs_on_past_the_end_of_its_sentence():
    from qa.holds import in_full
    from qa.questions import person_names

    before = "The college stands in Mill Town, Iowa. Founded in 1847, it is the oldest in the state."
    assert "Iowa Founded" not in person_names(before)
    # "Founded" opens a sentence: it is no family name to give a first name in brackets.
    assert in_full("Founded in 1881, its campus lies in Austin.", before) == "Founded in 1881, its campus lies in Austin."
    assert person_names("He met Gov. Ann Lee. Kim Jong Un left.") == ["Gov Ann Lee", "Kim Jong Un"]


# A pair of sentences of 56 words: the question's words open the second, its answer follows them.
FILM = ("Critics in three cities praised the film, which opened in forty cinemas across the country on Friday after a "
        "long festival run and a winter of delays. The film was directed by Mara Olsen from a screenplay she wrote "
        "over six years with her brother, and it follows a fisherman who loses his boat in a storm off the coast.")


def test_the_words_the_tagger_finds_likeliest_are_shown_and_bold():
    chunk = Chunk(id="f.txt", source="f.txt", text=FILM, start=0, end=len(FILM))
    reader = Specialists(ExtractiveReader())
    who = reader.answer(*ask_and_evidence("Who directed the film?", [Passage(chunk, 1.0)] + passages()))
    assert not who.refused and "Mara Olsen" in who.text and len(who.text.split()) <= 30
    assert [s.text for s in who.spans] == ["Mara Olsen"]
    # "three" is the first figure, "forty" the one beside the question's words.
    many = reader.answer(*ask_and_evidence("How many cinemas did the film open in?", [Passage(chunk, 1.0)] + passages()))
    assert "forty cinemas" in many.text and [s.text for s in many.spans] == ["forty"]


def test_word_features_describe_each_word_of_the_sentence():
    from qa.tagger import word_features

    rows = word_features("It was directed by Ann Lee.", "Who directed it?", {"direct": 1.0}, "person", {"direct"})
    assert len(rows) == 6  # one per whitespace word
    ann = rows[4]
    assert {"name", "typed", "person|typed", "who|name", "shape=cap", "after_asked=2", "previous=by"} <= set(ann)
    assert "asked" in rows[2] and "asked" not in ann


class KindVectors:
    """Fake word vectors: the words of one kind point one way ("bear" as "animal"), every other word
    another, as the real model puts a word near the kind it is of."""

    KINDS = {"animal": 0, "bear": 0, "planet": 1, "jupiter": 1}

    def embed_array(self, texts, cache=False):
        import numpy as np

        out = np.zeros((len(texts), 3), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, self.KINDS.get(text, 2)] = 1.0
        return out


def test_kinship_is_each_words_closeness_in_meaning_to_the_kind_asked_for():
    from qa.tagger import kinship

    kin = kinship("A large bear met Buoy.", "Which animal met the mascot?", {"met": 1.0, "mascot": 1.0}, KindVectors())
    assert kin == [None, 0.0, 1.0, None, 0.0]  # "A" a stop word, "met" the question's own
    assert kinship("A bear met Buoy.", "Why did it happen?", {"happen": 1.0}, KindVectors()) == [None] * 4


def test_the_tagger_finds_the_word_of_the_kind_asked_for_likelier():
    text = "During the filming a large bear appeared on the shoreline beside mascot Buoy and forward John Hayden."
    chunk = Chunk(id="k.txt", source="k.txt", text=text, start=0, end=len(text))
    ask, evidence = ask_and_evidence("Which animal interrupted the mascot's filming?", [Passage(chunk, 1.0)])
    bear = text.split().index("bear")
    without, _, _ = ExtractiveReader().answer_words(text, ask, evidence)
    near, _, _ = ExtractiveReader(vectors=KindVectors()).answer_words(text, ask, evidence)
    assert near[bear] > without[bear]
    assert (near > near[bear]).sum() < (without > without[bear]).sum()  # fewer words ahead of it


def assistant_over(tmp_path, embeddings, **articles: str):
    """An Assistant over a corpus of the given articles (file stem = text) and one unrelated article."""
    from qa.assistant import Assistant
    from qa.config import Config

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    articles["other"] = "The festival drew large crowds to the harbour on Friday."
    for name, text in articles.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    return Assistant(Config.from_env(store_dir=tmp_path / "store", corpus_dirs=(corpus,)), embeddings)


def test_a_name_asked_with_accents_is_the_name_the_article_writes_without(tmp_path, fake_embeddings):
    assistant = assistant_over(tmp_path, fake_embeddings, siege="The Siege of Alesia ended in September, 52 BC, "
                               "with the surrender of the Gallic army.")
    ask = assistant.read("When did the siege of Alésia end?")
    evidence = assistant.retriever.evidence(ask)
    # One word, as the keyword index reads it, not "Al" and "sia" that no article uses.
    assert evidence.unknown == () and "alesia" in evidence.weights
    assert evidence.passages[0].chunk.source == "siege.txt"


def test_a_misspelt_word_is_read_as_the_articles_write_it_and_a_name_only_as_a_name(tmp_path, fake_embeddings):
    assistant = assistant_over(tmp_path, fake_embeddings, ministry="The foreign ministry issued a statement on "
                               "Friday. It said the team played better in Seoul than the ministry had hoped.")
    said = assistant.retriever.evidence(assistant.read("What did the minstry say in Seul?")).corrections
    # The words as the articles write them, not the index's stems ("ministri").
    assert [(c.asked, c.read_as) for c in said] == [("minstry", "ministry"), ("Seul", "Seoul")]
    # "Bettar" is a name the articles lack: no article capitalises "better", the nearest word.
    said = assistant.retriever.evidence(assistant.read("How did the ministry describe Bettar?")).corrections
    assert said == ()
    said = assistant.retriever.evidence(assistant.read("Did the team play bettar in Seoul?")).corrections
    assert [(c.asked, c.read_as) for c in said] == [("bettar", "better")]


def test_a_word_the_articles_lack_is_not_read_as_a_different_word_that_they_use(tmp_path, fake_embeddings):
    assistant = assistant_over(tmp_path, fake_embeddings, envoy="Ann Marlow, the envoy to Virginia, met the "
                               "annual summit of governors in Richmond on Friday.")

    def read(question):
        return [(c.asked, c.read_as) for c in assistant.retriever.evidence(assistant.read(question)).corrections]

    assert read("Did the envoy Yann Marlow meet the governors?") == []  # a first letter no typo changes
    assert read("Which Virginian governors met the envoy?") == []  # "Virginia" with letters added
    assert read("Did the envoy watch the annular eclipse with the governors?") == []  # two edits: no typo
    assert read("Did the envoy meet the govenors?") == [("govenors", "governors")]


def test_a_word_spelt_the_other_side_of_the_atlantic_is_read_as_the_articles_spell_it(tmp_path, fake_embeddings):
    assistant = assistant_over(tmp_path, fake_embeddings, ministry="The defense ministry said on Friday that the "
                               "harbour would stay closed to ferries.")
    evidence = assistant.retriever.evidence(assistant.read("Why did the defence ministry close the harbor?"))
    assert [(c.asked, c.read_as, c.misspelt) for c in evidence.corrections] == [("defence", "defense", False),
                                                                                ("harbor", "harbour", False)]
    assert evidence.unknown == ()
    # A short word is never swapped for another ("poor" is not "pour"), nor a word the articles use.
    said = assistant.retriever.evidence(assistant.read("Was the defense ministry poor?")).corrections
    assert said == ()


def test_a_function_word_the_articles_never_use_is_no_sign_they_cannot_answer(tmp_path, fake_embeddings):
    assistant = assistant_over(tmp_path, fake_embeddings, ministry="The ministry closed the harbour to ferries.")
    evidence = assistant.retriever.evidence(assistant.read("Besides ferries, what else did the ministry close?"))
    assert evidence.unknown == ()
    unknown = assistant.retriever.evidence(assistant.read("What did the ministry close in Ruritania?")).unknown
    assert unknown == ("Ruritania",)


def test_each_passage_carries_how_close_its_embedding_is_to_the_question(tmp_path, fake_embeddings):
    assistant = assistant_over(tmp_path, fake_embeddings, ferry="The ministry closed the harbour to ferries on "
                               "Monday.", budget="Parliament passed the budget after a long night of votes.")
    passages = assistant.retriever.evidence(assistant.read("Why did the ministry close the harbour to ferries?")).passages
    assert all(p.similarity is not None and -1.0 <= p.similarity <= 1.0 for p in passages)
    closest = max(passages, key=lambda p: p.similarity)
    assert closest.chunk.source == "ferry.txt" and closest.similarity > 0.5


def test_the_reader_reads_a_passage_s_closeness_except_for_a_follow_up_and_when_unknown():
    import math

    from qa.reader import FEATURES, features

    text = "The ministry closed the harbour to ferries on Monday."
    near = Passage(Chunk(id="n", source="n.txt", text=text, start=0, end=len(text)), 1.0, 0, 0, 0.8)
    far = Passage(Chunk(id="f", source="f.txt", text="Parliament passed the budget.", start=0, end=29), 1.0, None, 1)
    column = FEATURES.index("similarity")

    def closeness(question, history=()):
        ask, evidence = ask_and_evidence(question, [near, far], history)
        return features(ask, evidence, candidates(evidence.passages), 8, 40)[:, column].tolist()

    # One outside the nearest chunks is no closer than the farthest of them.
    assert closeness("What did the ministry close?") == [0.8, 0.8]
    earlier = [{"role": "user", "content": "What did the ministry close?"},
               {"role": "assistant", "content": f"{text} [1]"}]
    # "When?" is close to nothing: a follow-up's closeness is missing, read as the mean.
    assert all(math.isnan(v) for v in closeness("When?", earlier))


def test_a_question_for_a_person_or_a_count_is_refused_by_a_sentence_that_holds_none():
    def ask(question, text):
        chunk = Chunk(id="p", source="p.txt", text=text, start=0, end=len(text))
        return Specialists(ExtractiveReader()).answer(*ask_and_evidence(question, [Passage(chunk, 1.0)]))

    unnamed = "Officials at the port said on Monday that the harbour would reopen to ferries next week."
    named = "Port director Anna Berg said on Monday that the harbour would reopen to ferries next week."
    assert ask("Which official said the harbour would reopen to ferries?", unnamed).refused
    assert "Anna Berg" in ask("Which official said the harbour would reopen to ferries?", named).text
    assert ask("How many ferries will use the harbour when it reopens?", unnamed).refused


def test_the_answer_spotter_tells_the_answer_from_the_question_restated():
    # The first sentence repeats the question's words and names no chain; the second names it.
    text = ("The country's largest cinema chain announced plans on Monday to price tickets by seat location. "
            "Moviegoers may soon pay extra for a good seat at Northlight Cinemas, the chain said.")
    chunk = Chunk(id="s", source="s.txt", text=text, start=0, end=len(text))
    ask, evidence = ask_and_evidence("Which cinema chain announced plans to price tickets by seat location?",
                                     [Passage(chunk, 1.0)])
    reader = ExtractiveReader()
    singles = [c.text for c in candidates(evidence.passages) if c.sentences == 1]
    restated, answering = reader.model.spotter.likeliest(singles, ask.question, dict(evidence.weights),
                                                         ask.kind.answer_type, set(evidence.known))
    assert answering > restated
    draft = Specialists(reader).answer(ask, evidence)
    assert "Northlight" in draft.text


def test_a_choice_question_is_answered_with_one_of_the_things_it_offers():
    from qa.tagger import word_features

    text = ("Saltmarsh is a band formed in Leeds in 1997 whose songs are about the sea. "
            "Greyfield is a painter from Bristol who works in oil.")
    question = "Which is a band, Greyfield or Saltmarsh?"
    rows = word_features(text, question, {"band": 1.0, "greyfield": 1.0, "saltmarsh": 1.0}, "name", set())
    assert "offered" in rows[0] and "offered" not in rows[2]  # "Saltmarsh" is offered, "a" is not
    chunk = Chunk(id="c", source="c.txt", text=text, start=0, end=len(text))
    draft = Specialists(ExtractiveReader()).answer(*ask_and_evidence(question, [Passage(chunk, 1.0)]))
    assert draft.spans and draft.spans[0].text in {"Greyfield", "Saltmarsh"}


SPEAKERS = {
    "r.txt": "The talks ended on Friday. In response, South Ruritania's president said the border would stay closed.",
    "n.txt": "North Ruritania has denied sending troops, and its foreign minister called the reports false.",
}


def test_a_speech_question_is_answered_with_the_named_speakers_words():
    from dataclasses import replace

    texts = [Passage(Chunk(id=s, source=s, text=t, start=0, end=len(t)), 1.0) for s, t in SPEAKERS.items()]
    reader = Specialists(ExtractiveReader())
    for question in ["What was North Ruritania's response?", "How did North Ruritania respond?"]:
        ask, evidence = ask_and_evidence(question, texts + passages())
        assert ask.speaker == "North Ruritania"
        assert "denied" in reader.answer(ask, evidence).text
        # Its words are found further down the retrieved ranking when the passages quote only others.
        shown = tuple(p for p in evidence.passages if p.chunk.source != "n.txt")
        assert "denied" in reader.answer(ask, replace(evidence, passages=shown)).text


def test_a_named_speaker_speaks_as_he_or_she_right_after_being_named():
    texts = {"o.txt": "Officials met in Oslo on Monday. Anna Berg chaired the talks with the envoy. "
                      "She stressed that every available ship would be sent.",
             "p.txt": "Lars Holm said on Monday that planes would be sent to Anna Berg's region within days."}
    found = [Passage(Chunk(id=s, source=s, text=t, start=0, end=len(t)), 1.0) for s, t in texts.items()]
    ask, evidence = ask_and_evidence("What did Anna Berg say would be sent?", found[::-1] + passages())
    assert ask.speaker == "Anna Berg"
    assert "every available ship" in Specialists(ExtractiveReader()).answer(ask, evidence).text


def test_a_book_that_was_published_is_a_fact_to_find_not_the_articles_date():
    text = "The novel Saltwater Roads was published in 1903 by Harbour Press, to little notice."
    chunk = Chunk(id="n", source="n.txt", text=text, start=0, end=len(text), title="Books of the coast",
                  date="2024-10-29", publisher="AFP")
    reader = Specialists(ExtractiveReader())
    book = reader.answer(*ask_and_evidence("In what year was the novel Saltwater Roads published?", [Passage(chunk, 1.0)]))
    assert "1903" in book.text and "29 October 2024" not in book.text
    article = reader.answer(*ask_and_evidence("When was the article on Saltwater Roads published?", [Passage(chunk, 1.0)]))
    assert "29 October 2024" in article.text


def test_the_time_an_article_was_put_online_and_last_changed_is_told():
    text = "The port reopened on Monday after a week of storms."
    chunk = Chunk(id="p", source="p.txt", text=text, start=0, end=len(text), title="Port reopens",
                  date="2024-10-29", publisher="AFP", time="07:38", updated="2024-10-30 09:15")
    reader = Specialists(ExtractiveReader())
    online = reader.answer(*ask_and_evidence("What time was the AFP story put online?", [Passage(chunk, 1.0)]))
    assert "29 October 2024 at 07:38" in online.text
    changed = reader.answer(*ask_and_evidence("When was the port story last updated?", [Passage(chunk, 1.0)]))
    assert "last updated on 30 October 2024 at 09:15" in changed.text
