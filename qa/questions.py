"""The one question classifier: what a question asks for, decided once and carried in `Ask.kind`.

Two things are decided: the *intent* (a single fact, a timeline, how reported figures compare, the
articles' own publication facts) and, for facts, the *answer type* (a number, a date, a person ...),
which the reader uses to prefer sentences holding a thing of that kind. Follow-up detection and the
search query of a follow-up live here too: they are part of reading the question, not of retrieval.
"""

from __future__ import annotations

import re
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

from qa.chunking import sentence_spans
from qa.claims import states_figure
from qa.conversation import last_answer, turns_to
from qa.lexicon import (
    ABOUT_THE_ARTICLE,
    ACROSS_REPORTS_Q,
    ASKING_SENTENCE,
    CATALOGUE_Q,
    COMPARE_Q,
    FIGURE_Q,
    GREETING_ONLY,
    HAPPENED_Q,
    HELP_Q,
    ELLIPSIS,
    LEANS_BACK,
    LATEST_Q,
    OVERVIEW_Q,
    DATE_WORDS,
    NAME_PARTICLES,
    NEXT_Q,
    NOT_PERSON,
    PERSON_NOUNS,
    PRONOUNS,
    QUANTITY_Q,
    QUESTION_WORDS,
    SPEAKER,
    SPEECH_ASKED_NOUNS,
    SPEECH_ASKED_VERBS,
    STOPWORDS,
    TIMELINE_Q,
)
from qa.text import content_stems, stem, strip_citations, words
from qa.types import Turn

if TYPE_CHECKING:  # for annotations only: qa.types names QuestionKind from this module
    from qa.types import Ask

Intent = Literal["fact", "timeline", "comparison", "about_article", "overview", "dated", "catalogue", "help"]
# Intents answered from the whole collection rather than from the passages retrieved for the question
# (a timeline lists every dated event of its topic, not only those of the top passages).
COLLECTION_INTENTS = frozenset({"overview", "dated", "catalogue", "help", "timeline"})
AnswerType = Literal["number", "amount", "date", "duration", "age", "speech", "person", "name", "place", "reason",
                     "next"]

# Answer types whose answer must hold a thing of that kind: a sentence without one is no answer
# (a "how many" question is not answered by a sentence with no figure in it).
TYPED = frozenset({"number", "amount", "date", "duration", "age", "speech", "person"})


@dataclass(frozen=True)
class QuestionKind:
    intent: Intent
    answer_type: AnswerType | None
    follow_up: bool = False
    asks_quantity: bool = False  # "how many ...", and the question states no figure itself

    @property
    def typed(self) -> bool:
        return self.answer_type in TYPED


# The things offered by the dev sets' choice questions whose answer is one of them run to six words
# ("the University of Texas at Austin"); an "or" with more on either side joins clauses ("online or
# offline systems in Hong Kong replaced ...").
MAX_OPTION_WORDS = 6


def options(question: str) -> tuple[str, str] | None:
    """The two things a question offers to choose between ("Which came first, A or B?"), or None.
    With no comma before the first, it is as many words as the second.

    >>> options("Which was released first, Cave of Dreams or Call Me Lucky?")
    ('Cave of Dreams', 'Call Me Lucky')
    >>> options("Who sang higher Daryl Hall or Steven Tyler?"), options("Which rebel, Ann Lee or Bo Ray, fled?")
    (('Daryl Hall', 'Steven Tyler'), ('Ann Lee', 'Bo Ray'))
    >>> options("Did he found ValuJet or which other airline?") is None
    True
    """
    m = re.search(r"^(.*)\bor\s+([^,?]+)", question.strip())
    if not m or not QUESTION_WORDS & {w.lower() for w in words(m.group(1))}:
        return None
    second = m.group(2).strip()
    before = m.group(1).rstrip(" ,:")
    first = re.split(r"[,:(]", before)[-1].strip()
    if not first or len(first.split()) > len(second.split()) + 2:
        first = " ".join(before.split()[-len(second.split()):])
    if any(QUESTION_WORDS & {w.lower() for w in words(o)} or len(o.split()) > MAX_OPTION_WORDS for o in (first, second)):
        return None
    return first, second


def named_by(text: str) -> list[str]:
    """The words of the noun phrase `text` opens, up to its first function word.

    >>> named_by("the country variety show hosted by the singer"), named_by("his uncle, a physicist")
    (['country', 'variety', 'show', 'hosted'], ['uncle'])
    """
    found = []
    for word in (w.lower() for w in words(text)):
        if word in STOPWORDS:
            if found:
                break
            continue
        found.append(word)
    return found


def answer_type(question: str) -> AnswerType | None:
    """What kind of thing the question asks for, judged from its leading question word.

    >>> [answer_type(q) for q in ["How many troops?", "When was it signed?", "Who said it?", "What did he say?", "Why?"]]
    ['number', 'date', 'name', 'speech', 'reason']
    >>> [answer_type(q) for q in ["Which foreign leader had he met?", "How old is he?", "Where did they meet?"]]
    ['person', 'age', 'place']
    >>> answer_type("What is the name of the storm?"), answer_type("What is the name of the singer who won?")
    ('name', 'person')
    >>> answer_type("What happens next?"), answer_type("What is the capital of the state that holds the park?")
    ('next', None)
    >>> answer_type("When she died, the Queen left four dogs. Who will care for them?")
    'name'
    """
    if NEXT_Q.search(question):
        return "next"
    # A news quiz may set the scene first ("When she died, the Queen left four dogs. Who will care for
    # them?"): the sentence that asks says what is asked.
    last = sentence_spans(question)[-1:]
    asking = question[slice(*last[0])] if last else question
    q = (asking if ASKING_SENTENCE.match(asking) else question).lower()
    lead = re.search(r"\b(how|when|what|which|who|whom|whose|where|why)\b", q)
    wh = lead.group(1) if lead else ""
    rest = q[lead.start():] if lead else q
    if re.match(r"how old\b|(what|which) age\b", rest):
        return "age"
    if wh == "how" and re.match(r"how much\b", rest) or re.search(r"^\w+ (amount|value|sum)\b|\bworth\b|\bcost\b", rest):
        return "amount"
    if re.match(r"how many\b|(what|which) (number|percentage|share)\b|how (large|big)\b", rest):
        return "number"
    if re.match(r"how long\b", rest):
        return "duration"
    if wh == "when" or re.match(r"(what|which) (day|date|year|month|time)\b", rest):
        return "date"
    named = re.search(r"\bname of (.*)", rest)
    if named:  # "What is the name of the singer who ...?" asks for a person, "... of the storm?" for a name
        return "person" if PERSON_NOUNS & set(named_by(named.group(1))) else "name"
    # A verb of speech after "did", "does" ...; after "is" or "was" the same word is a noun ("What is the
    # capital of the northern state ...?" asks for a place).
    if re.match(rf"(what|how) (did|does|do|will|would) .*\b({SPEECH_ASKED_VERBS})\b", rest) or re.match(
            rf"what (was|is) .*({SPEECH_ASKED_NOUNS})\b", rest):
        return "speech"
    asked = re.match(r"(?:what|which) ([\w.]+)(?: (\w+))?", rest)  # "Which leader ...", "Which U.S. official ..."
    if asked and PERSON_NOUNS & set(asked.groups()):
        return "person"
    if wh == "where" or re.match(r"(what|which|in which|in what) (country|city|state|town|place|region|nation)\b", rest):
        return "place"
    if wh == "why":
        return "reason"
    if wh in {"who", "whom", "whose", "which"}:
        return "name"
    return None


def is_follow_up(question: str, history: Sequence[Turn]) -> bool:
    """A question that leans on earlier turns: it points back ("he", "that") or names too little.

    >>> is_follow_up("What did he say in response?", [Turn("user", "Who?")])
    True
    >>> is_follow_up("Which French ambassador did Rome summon?", [Turn("user", "Who?")])
    False
    """
    if not history:
        return False
    lowered = [w.lower() for w in words(question)]
    return (any(w in PRONOUNS for w in lowered) or len(content_stems(question)) <= 1
            or bool(LEANS_BACK.search(question)))


def classify(question: str, history: Sequence[Turn] = ()) -> QuestionKind:
    """The kind of the question.

    >>> classify("Give me a timeline of the treaty").intent
    'timeline'
    >>> k = classify("How many troops did Ruritania send?")
    >>> k.intent, k.answer_type, k.asks_quantity
    ('fact', 'number', True)
    >>> classify("How do the counts of troops compare?").intent
    'comparison'
    >>> [classify(q).intent for q in ["Summarize the articles", "What happened on Thursday?", "Hello",
    ...  "Which articles do you have?", "How do the articles differ on the number of troops?",
    ...  "What did Yoon say on Tuesday?", "What's the latest?", "When was the article published?"]]
    ['overview', 'dated', 'help', 'catalogue', 'comparison', 'fact', 'dated', 'about_article']
    >>> [classify(q).intent for q in ["Who published it?", "When was the AFP report on the talks published?",
    ...  "Which game was published first, Ludo or Go?", "A study published in a journal found what?"]]
    ['about_article', 'about_article', 'fact', 'fact']
    >>> classify("What time was the AFP story put online?").intent, classify("When was the video posted?").intent
    ('about_article', 'fact')
    >>> classify("List the events in order.").intent, classify("Where did he move in order to farm?").intent
    ('timeline', 'fact')
    >>> [classify(q).intent for q in ["Tell me step by step what happened.", "Besides aiding Kyiv step by step, what else did he say?",
    ...  "How many novels are in the series it has been compared to?"]]
    ['timeline', 'fact', 'fact']
    >>> classify("What is this?").intent, classify("what is this pact about").intent
    ('help', 'fact')
    """
    follow_up = is_follow_up(question, history)
    if follow_up and ELLIPSIS.match(question):
        last = next((t.content for t in reversed(history) if t.role == "user"), "")
        if last and not ELLIPSIS.match(last):
            return dataclasses.replace(classify(last), follow_up=True)
    quantity = bool(QUANTITY_Q.search(question)) and not states_figure(question)
    return QuestionKind(intent_of(question), answer_type(question), follow_up, quantity)


def intent_of(question: str) -> Intent:
    """What the question asks for as a whole; the first rule that holds decides."""
    if GREETING_ONLY.search(question) or HELP_Q.search(question):
        return "help"
    if TIMELINE_Q.search(question):
        return "timeline"
    if OVERVIEW_Q.search(question):
        return "overview"
    if (COMPARE_Q.search(question) and FIGURE_Q.search(question)) or ACROSS_REPORTS_Q.search(question):
        return "comparison"
    if CATALOGUE_Q.search(question):
        return "catalogue"
    if LATEST_Q.search(question):
        return "dated"
    if HAPPENED_Q.search(question) and asks_about_a_time(question) and not names_a_topic(question):
        return "dated"
    if ABOUT_THE_ARTICLE.search(question):
        return "about_article"
    return "fact"


def names_a_topic(question: str) -> bool:
    """Does a "what happened on D" question also name what it is about ("... in Manhattan")? Then it
    asks for a fact, not for the day's events.

    >>> names_a_topic("What happened on 29 October 2024?"), names_a_topic("Which event took place in Paris on May 10?")
    (False, True)
    """
    from qa.timeline import TIME

    rest = TIME.sub(" ", question)
    generic = set(content_stems("happened happen happens occurred occur took place event events news anything "
                                "something new else notable important going reported day date"))
    return any(s not in generic and not s.isdigit() for s in content_stems(rest))


def asks_about_a_time(question: str) -> bool:
    """Does the question name a day or period ("on Thursday", "on 29 October 2024", "this week")?

    >>> asks_about_a_time("What happened on Thursday?"), asks_about_a_time("What happened to him?")
    (True, False)
    """
    from qa.timeline import time_refs

    return bool(time_refs(question, None))


def conversation_context(question: str, history: Sequence[Turn]) -> str:
    """For a follow-up, the words the conversation lends it: the last question and the content words
    of the last answer; for a standalone question, nothing.

    >>> conversation_context("What did he say?", [Turn("user", "Who was summoned?"), Turn("assistant", "Jean Dupont was. [1]")])
    'Who was summoned? Jean Dupont'
    """
    if not is_follow_up(question, history):
        return ""
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    if turns_to(question, history):  # the last exchange's subject is what the follow-up turns away from
        return without_names(last_user)
    answer_words = [w for w in words(strip_citations(last_answer(history))) if w.lower() not in STOPWORDS]
    return f"{last_user} {' '.join(answer_words[:16])}".strip()


# --- follow-ups made standalone -------------------------------------------------------------------

def without_names(text: str) -> str:
    """`text` without its capitalised words (and their "'s") but a leading question word: what was
    asked, without of whom.

    >>> without_names("What did Rome's foreign ministry say about the Alpine talks?")
    'What did foreign ministry say about the talks?'
    >>> without_names("Rome's UN mission say about the talks")
    'mission say about the talks'
    """
    first, rest = (text.split(" ", 1) + [""])[:2]
    if first.lower() not in QUESTION_WORDS:
        first, rest = "", text
    rest = re.sub(r"\b[A-Z][\w.-]*(?:['’]s)?\s*", "", rest)
    return f"{first} {rest}".strip()


POSSESSIVE = {"he": "", "she": "", "him": "", "his": "'s", "hers": "'s"}
PERSON_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|hers)\b", re.I)
NAME_RUN = re.compile(rf"\b[A-Z][\w’'.-]*(?:\s+(?:(?:{NAME_PARTICLES})\s+)?[A-Z][\w’'.-]*){{0,3}}")
# Capitalised words that are not names of people ("Ruritanian", "Polish"): nationality adjectives end so.
NATIONALITY = re.compile(r"(?:an|ese|ish|ian|ic|i)$")


def name_runs(text: str) -> list[tuple[int, str]]:
    """Runs of capitalised words (NAME_RUN) and where each starts, never across the end of a sentence
    (`sentence_spans`): "Iowa City, Iowa. Founded in 1847" holds "Iowa City", "Iowa." and "Founded",
    not "Iowa. Founded".

    >>> name_runs("It is in Iowa. Founded in 1847, by Gov. Ann Lee. Kim Jong Un left.")
    [(0, 'It'), (9, 'Iowa.'), (15, 'Founded'), (35, 'Gov. Ann Lee.'), (49, 'Kim Jong Un')]
    """
    return [(start + m.start(), m.group()) for start, end in sentence_spans(text)
            for m in NAME_RUN.finditer(text[start:end])]


def person_names(text: str) -> list[str]:
    """Runs of capitalised words that look like a person's name: not places or bodies, not a
    nationality, not the first word of a sentence unless it runs on into another capitalised word.

    >>> person_names("Who is the Italian ambassador North Ruritania summoned? Jean Dupont was.")
    ['Jean Dupont']
    >>> person_names("Where did Dupont deflect questions about Ruritanian troops?")
    ['Dupont']
    >>> person_names("They saw Lee win at the Trials. The Kremlin said Ann Lee won.")
    ['Lee', 'Ann Lee']
    >>> person_names("Pope Leo's Africa tour began.")
    ['Pope Leo']
    """
    names = []
    for start, run in name_runs(text):
        parts = run.split()
        while parts and (parts[0].lower() in STOPWORDS or parts[0].lower() in QUESTION_WORDS):
            parts = parts[1:]
        parts = [p.rstrip(".,’'") for p in parts]
        # A possessive ends the name: "Pope Leo's Africa tour" names Pope Leo, not "Pope Leo Africa".
        owner = next((k for k, p in enumerate(parts) if p.endswith(("'s", "’s"))), len(parts))
        parts = [p[:-2] if p.endswith(("'s", "’s")) else p for p in parts[: owner + 1]]
        if not parts or any(p.lower() in NOT_PERSON or p.lower() in DATE_WORDS or p.lower() in STOPWORDS
                            for p in parts):
            continue
        if len(parts) == 1:
            start += run.index(parts[0])
            sentence_start = start == 0 or re.search(r"[.!?]\s*$", text[:start])
            # "the Trials", "the Kremlin": a lone capitalised word after "the" names no person.
            after_the = re.search(r"\bthe\s+$", text[max(0, start - 5) : start], re.I)
            if (sentence_start or after_the or NATIONALITY.search(parts[0]) or not parts[0].isalpha()
                    or parts[0].isupper()):
                continue
        names.append(" ".join(parts))
    return names


def _last_topic(history: Sequence[Turn]) -> str:
    """What the last question that names something asked about, itself made standalone, without its
    question word ("What did Russia's lower house vote on?" -> "Russia's lower house vote on")."""
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        if turn.role != "user":
            continue
        asked = standalone(turn.content, history[:i]) if i else turn.content
        if len(content_stems(asked)) < 2:
            continue
        asked = re.sub(r"\s*[()?;]+\s*", " ", strip_citations(asked)).strip()
        return re.sub(r"^\s*(?:and\s+)?(?:what|which|who|whom|whose|when|where|why|how(?: many| much| long| old)?)\b\s*"
                      r"(?:did|does|do|is|are|was|were|has|have|had)?\s*", "", asked, flags=re.I)
    return ""


def _answer_news(history: Sequence[Turn], topic: str) -> str:
    """The words of the last answer's first sentence that the topic does not already hold (what the
    answer added: "it" may be the balloon the answer named)."""
    known = set(content_stems(topic))
    first = _first_sentence(last_answer(history))
    news = [w for w in words(first) if w.lower() not in STOPWORDS and stem(w) not in known]
    return " ".join(news[:8])


def referent(history: Sequence[Turn]) -> str | None:
    """The person a "he" or "she" most likely points to: one named in the last question that names
    someone, else the first one the last answer names; when the last question asked for a person or
    a name ("Which ambassador did they summon?"), the person the answer named comes first.

    >>> referent([Turn("user", "Which ambassador did Paris summon?"), Turn("assistant", "Paris summoned Jean Dupont. [1]")])
    'Jean Dupont'
    >>> referent([Turn("user", "Who is Anna Berg?"), Turn("assistant", "The Polish envoy Anna Maria Berg. [1]")])
    'Anna Berg'
    >>> referent([Turn("user", "Which envoy did Paris summon?"), Turn("assistant", "Ann Lee spoke. Paris summoned envoy Jean Dupont. [1]")])
    'Jean Dupont'
    >>> referent([Turn("user", "Who did Paris summon?"), Turn("assistant", "Paris summoned Jean Dupont. [1]"),
    ...           Turn("user", "What did he say?"), Turn("assistant", "He said Rome would reply. [1]")])
    'Jean Dupont'
    """
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    asks_for_someone = answer_type(last_user) in {"person", "name"} and not re.match(r"\s*who(?:'s| is| was)\b", last_user, re.I)
    order = ("assistant", "user") if asks_for_someone else ("user", "assistant")
    for role in order:
        for k, turn in reversed([(k, t) for k, t in enumerate(history) if t.role == role][-2:]):
            text = strip_citations(turn.content)
            if role == "assistant" and asks_for_someone:
                text = _nearest_first(text, last_user)
            names = person_names(text)
            if names:
                return names[0]
            if role == "user" and PERSON_PRONOUN.search(text):
                # A question that names no one but says "he" names whom its "he" stood for: after "Who
                # did Seoul summon?" and "What did he say?", "Why was he summoned?" asks of the envoy.
                earlier = referent(history[:k])
                if earlier:
                    return earlier
    return None


def _nearest_first(answer: str, question: str) -> str:
    """The answer's sentences, the one sharing most content words with the question first (ties keep
    their order): in a two-sentence answer the person asked for is in the sentence that answers, not
    in the one before it that gives context.

    >>> _nearest_first("Ann Lee spoke first. Paris summoned envoy Jean Dupont.", "Which envoy did Paris summon?")
    'Paris summoned envoy Jean Dupont. Ann Lee spoke first.'
    """
    asked = set(content_stems(question))
    sentences = [answer[s:e] for s, e in sentence_spans(answer)]
    sentences.sort(key=lambda sentence: -len(asked & set(content_stems(sentence))))
    return " ".join(sentences)


def _first_sentence(text: str) -> str:
    text = strip_citations(text).strip()
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z\"“])", text)
    return text[: m.start()] if m else text


def pointed_to(question: str, history: Sequence[Turn]) -> str | None:
    """The person a follow-up's "he", "she" or "his" stands for (`referent`); None when it has none."""
    return referent(history) if is_follow_up(question, history) and PERSON_PRONOUN.search(question) else None


def standalone(question: str, history: Sequence[Turn]) -> str:
    """A follow-up rewritten to stand alone: a person pronoun replaced by the person the conversation
    last named, and what the last exchange was about added to a question that leans on it ("it",
    "When?"); any other question as it is.

    >>> h = [Turn("user", "Who is Anna Maria Berg?"), Turn("assistant", "Anna Maria Berg is a vice foreign minister. [1]")]
    >>> standalone("What did he say?", h)
    'What did Anna Maria Berg say?'
    >>> standalone("When?", [Turn("user", "What did Russia's lower house vote on?"), Turn("assistant", "It voted to ratify the treaty. [1]")])
    "When? (Russia's lower house vote on; voted ratify treaty)"
    """
    if not is_follow_up(question, history):
        return question
    out = question
    person = pointed_to(question, history)
    if person:
        def swap(m: re.Match) -> str:
            word = m.group()
            if word.lower() == "her":  # "call her" (him) or "her husband" (his)
                after = question[m.end():].split()
                nxt = after[0].lower().strip("?.,!") if after else ""
                return person + ("'s" if nxt and nxt not in STOPWORDS and nxt.isalpha() else "")
            return person + POSSESSIVE[word.lower()]
        out = PERSON_PRONOUN.sub(swap, out)
    topic = _last_topic(history)
    if turns_to(question, history):
        topic = without_names(topic)
        return f"{out} ({topic})" if topic else out
    leans = len(content_stems(out)) < 3 or re.search(r"\b(?:it|its|this|that|they|them|their|there|then|these|those)\b", out, re.I)
    lent = [topic, _answer_news(history, topic)] if leans else [topic]
    lent = [x for x in lent if x and not set(content_stems(x)) <= set(content_stems(out))]
    return f"{out} ({'; '.join(lent)})" if lent else out


def speaker(question: str) -> str:
    """Whose words the question asks for, when it names them bare ("" otherwise).

    >>> speaker("What was North Ruritania's response?"), speaker("What did the Kremlin say about it?")
    ('North Ruritania', 'Kremlin')
    >>> speaker("What did Ruritania's foreign minister say?"), speaker("What did he say?")
    ('', '')
    """
    found = SPEAKER.match(question.strip())
    return (found.group("subject") or found.group("owner")) if found else ""


def read_question(question: str, history: Sequence[Turn] = ()) -> "Ask":
    """The question as the answerers get it: classified on its own words, rewritten to stand alone
    when it is a follow-up, with the conversation's words for searching. The one way a question is
    read, whether it comes from `qa ask`, `qa chat`, the web chat or `answer(history=...)`."""
    from qa.types import Ask

    turns = tuple(history)
    kind = classify(question, turns)
    return Ask(standalone(question, turns), kind, turns, conversation_context(question, turns), asked=question,
               person=pointed_to(question, turns) or "",
               speaker=speaker(question) if kind.answer_type == "speech" and not kind.follow_up else "")
