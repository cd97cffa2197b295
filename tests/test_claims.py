"""Dated claims: extraction, precision-aware disagreement, weekday resolution, timelines, and the
specialist answerer that says "reports differ". Unit tests use small hand-written texts; the
integration tests ask the seeds with the real model."""

from __future__ import annotations

import dataclasses
import json
import re
from argparse import Namespace

import pytest

from qa.answering import Specialists
from qa.claims import (
    Claim,
    claims_context,
    claims_in,
    conflicts,
    counted_noun,
    extract_claims,
    main as claims_main,
)
from qa.config import Config
from qa.corpus import Article
from qa.questions import classify
from qa.timeline import resolve_weekday, time_refs
from qa.types import Chunk, Citation, Draft, Passage
from tests.support.asking import ask_and_evidence
from tests.conftest import SEEDS


def passage(text: str, source: str, date: str | None = None, score: float = 1.0) -> Passage:
    return Passage(Chunk(id=f"id-{source}-{abs(hash(text)) % 10**8}", source=source, text=text, start=0,
                         end=len(text), title=f"About {source}", date=date), score)


def one(text: str, **kw) -> Claim:
    found = claims_in(text, source="t.txt", **kw)
    assert len(found) == 1, found
    return found[0]


# --- extraction ---------------------------------------------------------------------------------


def test_a_claim_has_value_qualifier_kind_speaker_and_time():
    text = "Storms hit the coast. The Defence Ministry (MOD) said on Tuesday that up to 2,500 soldiers had crossed."
    c = one(text, date="2023-03-09")  # a Thursday
    assert (c.value, c.raw, c.qualifier) == (2500, "up to 2,500", "up to")
    assert (c.noun, c.kind, c.who) == ("soldiers", "troops", "MOD")
    assert c.when == "on Tuesday" and c.date == "2023-03-07" and c.article_date == "2023-03-09"
    assert text[c.start : c.end] == c.sentence and c.sentence.startswith("The Defence Ministry")


def test_speaker_is_the_subject_of_the_nearest_speech_verb():
    assert one("Freedonian and Ruritanian officials reported that 40 tanks had moved.").who == (
        "Freedonian and Ruritanian officials"
    )
    assert one("Kantor said 40 tanks had moved.").who == "Kantor"
    assert one("Ruritanian President Anna Kovac had previously stated that 12 brigades left.").who == (
        "Ruritanian President Anna Kovac"
    )
    assert one("According to Freedonia's statistics office, 300 families were moved.").who.startswith("Freedonia")
    assert one("Some 300 families were moved from the valley.").who is None


def test_money_scales_and_currency():
    c = one("Acme signed a $3.2 billion deal with the port.")
    assert (c.value, c.kind, c.raw) == (3.2e9, "dollars", "$3.2 billion")
    vague = one("The city has spent billions of dollars on the bridge.")
    assert vague.vague and vague.kind == "dollars" and (vague.low, vague.high) == (1e9, 1e12)


def test_noun_phrases_fold_people_under_arms_but_keep_other_nouns():
    assert counted_noun(" special operations forces to the north") == ("special operations forces", "troops")
    assert counted_noun(" armoured vehicles were seen") == ("armoured vehicles", "vehicles")
    assert counted_noun(" Ruritanians, the report said") == ("Ruritanians", "people")
    assert counted_noun(" were now training") == ("", "")


def test_years_dates_times_percentages_and_model_names_are_not_claims():
    text = ("In 2023 the K2 model sold well. It was 07:38 on 29 October 2024. Prices rose 12% in a year. "
            "The war ended in 1953.")
    assert claims_in(text, source="t.txt") == []


def test_a_bare_figure_counts_what_the_sentence_counted_before():
    text = "Analysts said thousands of workers had left, with Harlan saying 800 were still striking."
    first, second = claims_in(text, source="t.txt")
    assert first.vague and first.kind == "workers" and first.who == "Analysts"
    assert (second.value, second.kind, second.who) == (800, "workers", "Harlan")


def test_extract_claims_reads_a_whole_article():
    article = Article(source="a.txt", text="Title line\nOn Monday, Kantor said 40 tanks moved.", date="2024-10-29")
    [c] = extract_claims(article)
    assert c.chunk_id is None and article.text[c.start : c.end] == c.sentence
    assert c.when == "On Monday" and c.date == "2024-10-28"


# --- disagreement -------------------------------------------------------------------------------


def test_precise_figures_more_than_ten_percent_apart_conflict():
    a = one("Kantor said 1,500 soldiers crossed.")
    b = one("Harlan said 10,000 soldiers crossed.")
    close = one("Harlan said 1,600 soldiers crossed.")
    assert conflicts([a, b])
    assert not conflicts([a, close])


def test_two_figures_of_one_sentence_are_two_quantities_not_two_reports():
    both = claims_in("The agency had 15,130 employees and asked to hire 2,023 employees more.", source="t.txt")
    assert [c.value for c in both] == [15130, 2023]
    assert not conflicts(both)
    assert conflicts([both[0], one("Harlan said the agency had 2,023 employees.")])


def test_figures_differing_only_in_precision_do_not_conflict():
    vague = one("Officials said thousands of soldiers crossed.")
    bound = one("Officials said up to 3,000 soldiers crossed.")
    at_least = one("Officials said at least 1,000 soldiers crossed.")
    exact = one("Kantor said 3,000 soldiers crossed.")
    assert not conflicts([vague, exact])
    assert not conflicts([bound, one("Kantor said 1,500 soldiers crossed.")])  # "up to" is a bound
    assert not conflicts([at_least, exact])
    assert conflicts([bound, one("Harlan said 10,000 soldiers crossed.")])


# --- time ---------------------------------------------------------------------------------------


def test_weekdays_resolve_to_the_latest_such_day_on_or_before_publication():
    assert resolve_weekday("Thursday", "2024-10-29") == "2024-10-24"
    assert resolve_weekday("Tuesday", "2024-10-29") == "2024-10-29"  # the day itself
    assert resolve_weekday("Monday", "2024-10-29") == "2024-10-28"
    assert resolve_weekday("Friday", "2024-10-29", forward=True) == "2024-11-01"


def test_time_expressions_resolve_with_a_date_and_stay_relative_without():
    dated = time_refs("On Thursday the house voted, after talks in June and a pact in March 2022.", "2024-10-29")
    assert [(t.text, t.iso) for t in dated] == [
        ("On Thursday", "2024-10-24"), ("in June", "2024-06"), ("in March 2022", "2022-03")
    ]
    [undated] = time_refs("On Thursday the house voted.", None)
    assert undated.iso is None and undated.label == "Thursday (article undated)"
    [future] = time_refs("The visit will conclude on Friday.", "2024-10-29")
    assert future.iso == "2024-11-01"
    assert time_refs("Talks may resume.", "2024-10-29") == []  # "may" the verb is no month


def test_question_kinds():
    assert classify("How many soldiers crossed?").asks_quantity and classify("How much did it cost?").asks_quantity
    assert not classify("Who crossed the border?").asks_quantity
    # A difference is no reported quantity: "reports differ" on the totals would not answer it.
    assert not classify("How many more goals does he need?").asks_quantity
    assert classify("How many other countries joined?").asks_quantity
    assert classify("What is the number of soldiers?").asks_quantity
    assert not classify("What is the number one hit of the band?").asks_quantity  # a chart place, not a count
    assert classify("What happened, in order?").intent == "timeline"
    assert classify("Give me a timeline of the strike").intent == "timeline"
    assert classify("What was the sequence of events?").intent == "timeline"
    assert classify("Why did it happen?").intent == "fact"


# --- the specialist answerer --------------------------------------------------------------------


class Inner:
    """A stand-in answerer that records its calls."""

    def __init__(self, text="The plain answer. [1]", citations=()):
        self.calls = 0
        self.draft = Draft(text=text, refused=False, citations=list(citations))

    def answer(self, ask, evidence):
        self.calls += 1
        return self.draft

    def stream(self, ask, evidence):
        yield self.answer(ask, evidence)


BORDER = [
    passage("Unrest grew in Ruritania. Kantor said on Friday that 1,500 soldiers had crossed into Freedonia.", "a.txt"),
    passage("Freedonian officials reported on Wednesday that up to 3,000 Ruritanian troops were seen in Freedonia.", "b.txt"),
    passage("Harlan accused Ruritania of sending 10,000 soldiers to Freedonia.", "c.txt", date="2024-10-29"),
    passage("The harvest in Freedonia was good, with 20,000 tonnes of wheat.", "d.txt"),
]


def ask(answerer, question, passages):
    return Specialists(answerer).answer(*ask_and_evidence(question, passages))


def test_disagreeing_figures_get_a_reports_differ_answer_with_claim_citations():
    inner = Inner()
    draft = ask(inner, "How many Ruritanian soldiers are in Freedonia?", BORDER)
    assert draft.conflict and not draft.refused
    assert draft.text.startswith("Reports differ:")
    for figure in ("1,500", "3,000", "10,000"):
        assert figure in draft.text
    assert "tonnes" not in draft.text
    assert [c.n for c in draft.citations] == [1, 2, 3]
    assert {c.source for c in draft.citations} == {"a.txt", "b.txt", "c.txt"}
    for c in draft.citations:
        assert re.search(r"\d[\d,]*", c.quote) and c.quote in c.text and f"[{c.n}]" in draft.text
    kantor = next(c for c in draft.citations if c.source == "a.txt")
    assert kantor.quote.startswith("Kantor said")  # the claim's sentence, not the whole chunk


def test_agreeing_sources_are_handed_to_the_wrapped_answerer_unchanged():
    agree = [
        passage("Kantor said 1,500 soldiers had crossed into Freedonia.", "a.txt"),
        passage("Officials said about 1,450 Ruritanian soldiers were in Freedonia.", "b.txt"),
        passage("Thousands of soldiers were in Freedonia, Harlan said.", "c.txt"),
    ]
    inner = Inner()
    draft = ask(inner, "How many Ruritanian soldiers are in Freedonia?", agree)
    assert inner.calls == 1 and draft is inner.draft and not draft.conflict


def test_a_question_that_names_the_speaker_asks_for_that_speaker_figure():
    inner = Inner()
    draft = ask(inner, "How many soldiers crossed into Freedonia, according to Kantor?", BORDER)
    assert inner.calls == 1 and not draft.conflict


def test_a_refusal_or_a_question_about_a_stated_figure_is_left_as_the_wrapped_answerer_gave_it():
    refusing = Inner()
    refusing.draft = Draft(text="The articles do not say.", refused=True)
    assert ask(refusing, "How many Ruritanian soldiers are in Freedonia?", BORDER) is refusing.draft
    inner = Inner()
    assert ask(inner, "Who put the number of soldiers at 10,000?", BORDER) is inner.draft
    assert ask(inner, "In which month were the 1,500 soldiers sent?", BORDER) is inner.draft


def test_a_question_naming_several_speakers_compares_just_theirs():
    inner = Inner()
    question = "How many soldiers did Freedonian officials see, and how many did Harlan say were sent?"
    draft = ask(inner, question, BORDER)
    assert draft.conflict and "3,000" in draft.text and "10,000" in draft.text and "1,500" not in draft.text


def test_a_question_comparing_counts_gets_the_disagreement_even_when_the_plain_answer_refuses():
    refusing = Inner()
    refusing.draft = Draft(text="The articles do not say.", refused=True)
    question = "How does Kantor's count of soldiers in Freedonia compare with Harlan's figure?"
    draft = ask(refusing, question, BORDER)
    assert draft.conflict and "1,500" in draft.text and "10,000" in draft.text


def test_only_reports_about_the_question_nearly_as_much_as_the_best_are_set_against_each_other():
    games = [
        passage("Kantor scored 71 points against Freedonia's Lions, the eighth-most points in a game.", "a.txt"),
        passage("The Lions lost on Sunday. Harlan scored 13 points in overtime against the Bears.", "b.txt"),
        passage("Each of the eight Ruritanian players scored at least 2 points in the first game.", "c.txt"),
    ]
    inner = Inner("Kantor scored 71 points against Freedonia's Lions. [1]")
    # The other figures count points of another player or game: no disagreement about Kantor's points.
    assert ask(inner, "How many points did Kantor score against the Lions?", games) is inner.draft
    draft = ask(inner, "How many Ruritanian soldiers are in Freedonia?", BORDER)
    assert draft.conflict and all(f in draft.text for f in ("1,500", "3,000", "10,000"))


def test_other_questions_are_delegated_and_unrelated_figures_left_alone():
    inner = Inner("Unrest grew in Ruritania. [1]")
    draft = ask(inner, "What grew in Ruritania?", BORDER)
    assert draft is inner.draft


def test_a_plain_answer_stating_a_contradicted_figure_gets_the_other_reports():
    from qa.types import Citation

    cite = Citation.of(1, BORDER[2].chunk, 0, len(BORDER[2].chunk.text))
    inner = Inner("Harlan accused Ruritania of sending 10,000 soldiers to Freedonia. [1]", [cite])
    assert ask(inner, "What did Harlan accuse Ruritania of?", BORDER) is inner.draft
    # Only a question about the figure gets the other reports of it (issue 12: none unasked).
    assert ask(inner, "Where were Ruritanian soldiers sent?", BORDER) is inner.draft
    draft = ask(inner, "What number of Ruritanian soldiers were sent to Freedonia?", BORDER)
    assert draft.conflict and draft.text.startswith(inner.draft.text)
    assert "Other reports differ" in draft.text and "1,500" in draft.text
    assert [c.n for c in draft.citations] == list(range(1, len(draft.citations) + 1))
    assert draft.citations[0] == cite


def test_the_wider_ranking_supplies_reports_the_top_passages_left_out():
    stored = passage("Harlan accused Ruritania of sending 10,000 soldiers to Freedonia.", "c.txt")
    question = "How many Ruritanian soldiers are in Freedonia?"
    top = BORDER[:1]
    assert ask(Inner(), question, top).conflict is False
    q, found = ask_and_evidence(question, top)
    widened = dataclasses.replace(found, pool=(*top, stored))
    draft = Specialists(Inner()).answer(q, widened)
    assert draft.conflict and "10,000" in draft.text
    assert any(c.source == "c.txt" and "10,000" in c.quote for c in draft.citations)


def test_timeline_questions_get_dated_lines_in_order_with_citations():
    events = [
        passage("The senate voted on Thursday to ratify the accord. Crowds cheered.", "a.txt", date="2024-10-29"),
        passage("The accord was signed in June by both leaders.", "b.txt", date="2024-10-29"),
        passage("On Monday the accord reached the senate floor. Lunch was served.", "c.txt", date="2024-10-29"),
        passage("On Tuesday the weather was fine.", "d.txt", date="2024-10-29"),
    ]
    inner = Inner()
    draft = ask(inner, "Give me a timeline of the accord's ratification", events)
    assert inner.calls == 0 and not draft.refused
    lines = draft.text.splitlines()
    assert [line.split(":")[0] for line in lines] == ["- 2024-06", "- 2024-10-24 (Thursday)", "- 2024-10-28 (Monday)"]
    assert all(re.search(r"\[\d+\]$", line) for line in lines) and "weather" not in draft.text
    assert [c.source for c in draft.citations] == ["b.txt", "a.txt", "c.txt"]
    assert draft.citations[1].quote == "The senate voted on Thursday to ratify the accord."


def test_a_month_without_its_year_is_placed_by_the_collections_latest_date_and_says_so():
    from qa.timeline import timeline_draft

    events = [
        passage("On Thursday the senate voted to ratify the accord.", "a.txt", date="2024-10-29"),
        passage("The accord was signed in June by both leaders.", "b.txt"),  # an undated article
    ]
    lines = timeline_draft("Give me a timeline of the accord", "", events, latest="2024-10-29").text.splitlines()
    assert [line.split(":")[0] for line in lines] == ["- June (year not stated)", "- 2024-10-24 (Thursday)"]
    # Without a dated article to go by, the month stays among the undated.
    lines = timeline_draft("Give me a timeline of the accord", "", events).text.splitlines()
    assert lines[0].startswith("- 2024-10-24")


def test_a_timeline_leaves_out_articles_that_meet_its_topic_by_one_word():
    from qa.timeline import timeline_draft

    events = [
        passage("On Monday the accord reached the senate floor.", "a.txt", date="2024-10-29"),
        passage("The trade accord's new tariffs took effect in June.", "b.txt", date="2024-10-29"),
        passage("A senate aide said in May that the accord on fishing tariffs was close.", "c.txt", date="2024-10-29"),
    ]
    question = "Give me a timeline of the senate accord"
    draft = timeline_draft(question, "", events, of_topic=frozenset({"a.txt"}))
    # a.txt was retrieved first; c.txt holds "senate" and "accord" too; b.txt only "accord".
    assert [c.source for c in draft.citations] == ["c.txt", "a.txt"]
    assert len(timeline_draft(question, "", events).citations) == 3  # reading only what retrieval gave


def test_undated_weekdays_keep_their_words_and_fall_in_the_shortest_week():
    events = [
        passage("On Friday the accord went to the upper house.", "a.txt"),
        passage("On Monday the accord was debated.", "a2.txt"),
        passage("On Thursday the lower house passed the accord.", "b.txt"),
        passage("The accord was passed on Thursday by the lower house.", "c.txt"),
    ]
    draft = ask(Inner(), "What happened to the accord, in order?", events)
    lines = draft.text.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "- Monday (article undated)", "- Thursday (article undated)", "- Friday (article undated)"
    ]
    assert lines[1].endswith("[2][3]")  # one event, two reports
    assert len(draft.citations) == 4


def test_claims_context_lists_figures_by_passage_number_and_flags_disagreement():
    text = claims_context(BORDER)
    assert "[1] troops: 1,500 soldiers — said by Kantor" in text
    assert "[3] troops: 10,000 soldiers — said by Harlan" in text
    assert "different figures for troops" in text and "tonnes" in text
    assert claims_context([passage("Nothing counted here.", "x.txt")]) == ""


# --- qa claims ----------------------------------------------------------------------------------


def test_qa_claims_groups_the_corpus_figures_by_kind(tmp_path, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("Border news\nKantor said on Friday that 1,500 soldiers had crossed the river.\n")
    (folder / "b.txt").write_text("More border news\nHarlan said 10,000 troops crossed. Farmers sold 20,000 tonnes of wheat.\n")
    config = Config.from_env(corpus_dirs=(folder,), store_dir=tmp_path / "store")
    assert claims_main(Namespace(topic=None, json=True), config) == 0
    groups = json.loads(capsys.readouterr().out)
    assert sorted(groups) == ["tonnes", "troops"]
    assert sorted(c["value"] for c in groups["troops"]) == [1500, 10000]
    assert {c["who"] for c in groups["troops"]} == {"Kantor", "Harlan"}
    assert claims_main(Namespace(topic="soldiers", json=False), config) == 0
    out = capsys.readouterr().out
    assert out.startswith("troops  (reports differ)") and "tonnes" not in out and "[a.txt]" in out


def test_qa_claims_on_the_seeds_lists_the_troop_figures(capsys, monkeypatch):
    from qa.cli import main as cli_main

    monkeypatch.setenv("QA_CORPUS", str(SEEDS))
    code = cli_main(["claims", "--topic", "troops", "--json"])
    assert code == 0
    troops = json.loads(capsys.readouterr().out)["troops"]
    assert {1500, 3000, 10000} <= {c["value"] for c in troops}


# --- the seeds, with the real model ---------------------------------------------------------------


@pytest.mark.integration
def test_seeds_troop_count_reports_differ(seeds_assistant):
    answer = seeds_assistant.answer("How many North Korean troops are in Russia?")
    assert answer.conflict and not answer.refused
    for figure in ("1,500", "3,000", "10,000"):
        assert figure in answer.text
    by_figure = {f: {c.source[:3] for c in answer.citations if f in c.quote} for f in ("1,500", "3,000", "10,000")}
    assert "001" in by_figure["1,500"]
    assert by_figure["3,000"] & {"000", "003"}
    assert "004" in by_figure["10,000"]
    assert all(f"[{c.n}]" in answer.text for c in answer.citations)


@pytest.mark.integration
def test_seeds_agreeing_sources_claim_no_conflict(seeds_assistant):
    answer = seeds_assistant.answer("To which country has Seoul sold tanks, howitzers and rocket launchers?")
    assert not answer.conflict and not answer.refused
    assert "Poland" in answer.text


@pytest.mark.integration
def test_seeds_timeline_has_dated_lines_with_citations(seeds_assistant):
    answer = seeds_assistant.answer("Give me a timeline of the treaty's ratification")
    lines = answer.text.splitlines()
    assert len(lines) >= 2 and not answer.refused
    assert all(re.match(r"- \S.*: .+ (\[\d+\])+$", line) for line in lines)
    assert any("Thursday" in line for line in lines) and any("June" in line for line in lines)
    assert [line for line in lines if "June" in line][0] == lines[0]  # signed before it was ratified
    assert {c.source[:3] for c in answer.citations} >= {"000", "002"}


def test_a_yearly_cost_is_not_a_price():
    town = [
        passage("The harbour bridge cost the city $35 million to build, the council said.", "a.txt"),
        passage("The city library costs the council $3 million a year to run.", "b.txt"),
    ]
    assert [c.kind for p in town for c in claims_in(p.chunk.text, source=p.chunk.source)] == ["dollars", "dollars a year"]
    inner = Inner("The harbour bridge cost the city $35 million to build, the council said. [1]",
                  [Citation.of(1, town[0].chunk)])
    draft = ask(inner, "How much did the harbour bridge cost the city?", town)
    assert not draft.conflict and "differ" not in draft.text
    # Two reports of the same yearly cost still disagree.
    town.append(passage("Running the city library costs the council $6 million a year.", "c.txt"))
    draft = ask(Inner(), "How much does the city library cost the council a year?", town)
    assert draft.conflict and "3 million" in draft.text and "6 million" in draft.text and "35" not in draft.text


def test_a_price_per_unit_is_not_the_price_of_the_whole():
    road = [
        passage("The cheapest electric pickup starts at around $47,000 and can go 240 miles on a full charge.", "a.txt"),
        passage("Drivers paid $3 per gallon for gas on pickup trips last summer, and $2.84 a gallon by winter.", "b.txt"),
    ]
    kinds = [c.kind for p in road for c in claims_in(p.chunk.text, source=p.chunk.source)]
    assert kinds == ["dollars", "miles", "dollars a gallon", "dollars a gallon"]
    inner = Inner("The cheapest electric pickup starts at around $47,000. [1]", [Citation.of(1, road[0].chunk)])
    draft = ask(inner, "How much does the cheapest electric pickup cost?", road)
    assert not draft.conflict and "differ" not in draft.text
