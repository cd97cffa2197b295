"""What a sentence holds that a question may ask for: new names, people, figures, dates, and the
things of an asked type (`typed_spans`). Shared by the reader, which scores sentences, and the
excerpt, which finds the words of a long answer to show."""

from __future__ import annotations

import re

from qa.lexicon import (AGE, AHEAD, DATE_WORDS, DURATION, MONEY, NAME_QUALIFIERS, NAME_TITLES, NUMBER_WORDS,
                        PREPOSITIONS, REASON, SAID_INVERTED, SPEECH_VERBS, STOPWORDS)
from qa.questions import person_names
from qa.text import stem

SPEECH_STEMS = frozenset(stem(w) for w in SPEECH_VERBS)


def new_people(sentence: str, known: set[str]) -> list[str]:
    """The people a sentence names (`qa.questions.person_names`) that the question does not name.

    >>> new_people("Paris summoned the ambassador, Jean Dupont, on Friday.", set())
    ['Jean Dupont']
    >>> new_people("Jean Dupont and Anna Berg met.", {"jean", "dupont"})
    ['Anna Berg']
    """
    return [n for n in person_names(sentence) if not all(stem(part) in known for part in n.split())]


def new_names(sentence: str, known: set[str]) -> list[re.Match]:
    """Capitalised words (after the first word) that the question does not already name."""
    out = []
    for m in re.finditer(r"\b[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*", sentence):
        if m.start() == 0 and " " not in m.group():
            continue
        if all(p.lower() in STOPWORDS or p.lower() in DATE_WORDS or stem(p) in known for p in m.group().split()):
            continue
        out.append(m)
    return out


def new_figures(sentence: str, known: set[str], money: bool = True) -> list[re.Match]:
    """Figures (digits or number words) the question does not already state; money excluded unless asked."""
    text = sentence if money else MONEY.sub(lambda m: " " * len(m.group()), sentence)
    return [
        m for m in re.finditer(r"\b\d+(?:[.,]\d+)*(?:\s?(?:percent|%|million|billion|trillion))?|\b(?:" + "|".join(NUMBER_WORDS) + r")\b", text, re.I)
        if stem(m.group().split()[0]) not in known
    ]


def dates(sentence: str) -> list[re.Match]:
    """Date expressions: a month or weekday with its day and year, a bare year, or a time said relative
    to the article's ("last week", "by the end of the year", "in the coming weeks").

    >>> [m.group() for m in dates("On Friday, 3 May 2024, it said the pandas come by the end of the year.")]
    ['Friday, 3 May 2024', 'end of the year']
    >>> [m.group() for m in dates("Talks resume later this month; a deal is due in a few weeks, not tomorrow.")]
    ['later this month', 'in a few weeks', 'tomorrow']
    >>> [m.group() for m in dates("The canal opened in 1761; in the 1880s it closed at 07:40.")]
    ['1761', '1880s', '07:40']
    """
    month = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
    weekday = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    period = r"(?:week|weekend|month|year|spring|summer|fall|autumn|winter)"
    # A year from 1000 (encyclopedia questions ask when a canal opened in 1761), a decade, a time of day.
    pattern = (rf"\b(?:{weekday},?\s+)?(?:\d{{1,2}}\s+{month}|{month}\s+\d{{1,2}}(?:st|nd|rd|th)?|{month})(?:,?\s+\d{{4}})?"
               rf"|\b{weekday}\b|\b(?:1\d|20)\d\d(?:s|’s|'s)?\b|\b\d{{1,2}}:\d\d\b"
               rf"|\b(?:yesterday|today|tonight|tomorrow)\b"
               rf"|\b(?:(?:earlier|later) )?(?:this|last|next|past) {period}\b|\bend of (?:the|this|next) {period}\b"
               rf"|\byear's end\b|\b(?:[Ii]n (?:the coming|a few|several|\d+|two|three)|[Aa] few) (?:days|weeks|months|years)\b")
    return list(re.finditer(pattern, sentence))


def typed_spans(sentence: str, answer_type: str | None, known: set[str]) -> list[tuple[int, int]]:
    """Where in the sentence the things of the asked type are, that the question does not name.

    >>> s = "On Friday, Paris summoned Jean Dupont, 54, over 3,000 troops."
    >>> [s[a:b] for a, b in typed_spans(s, "number", {"troop"})]
    ['54', '3,000']
    >>> [s[a:b] for a, b in typed_spans(s, "person", {"paris"})]
    ['Jean Dupont']
    """
    if answer_type in {"number", "amount"}:
        return [m.span() for m in new_figures(sentence, known, money=answer_type == "amount")]
    if answer_type == "age":
        return [m.span() for m in AGE.finditer(sentence)]
    if answer_type == "duration":
        return [m.span() for m in DURATION.finditer(sentence)]
    if answer_type == "date":
        return [m.span() for m in dates(sentence)]
    if answer_type == "speech":
        return [m.span() for m in re.finditer(r"\w+", sentence) if stem(m.group()) in SPEECH_STEMS]
    if answer_type == "person":
        return [(sentence.index(n), sentence.index(n) + len(n)) for n in new_people(sentence, known) if n in sentence]
    if answer_type in {"name", "place"}:
        return [m.span() for m in new_names(sentence, known)]
    if answer_type == "reason":
        return [m.span() for m in REASON.finditer(sentence)]
    if answer_type == "next":
        return [m.span() for m in AHEAD.finditer(sentence)]
    return []


_NAME_WORD = re.compile(r"[\w’'-]+")  # a word of a name, hyphens and all ("Yong-hyun")
_RUN_ON = re.compile(r"(?: +[A-Z][\w’'-]*)*")  # the capitalised words that follow, across spaces only


def mentions(text: str, person: str, before: str = "") -> bool:
    """Whether `text` mentions `person`, by their whole name or a part of it ("Duda" for "Andrzej
    Duda"), where the capitalised words after that part, if any, are of the name too: "Kim Jong Un" is
    not a mention of "Kim Jong Gyu". The first part said alone ("Kim urged ...", where family names come
    first) stands for the last person `before` it (the text that precedes, in its article) named with
    that part and more.

    >>> mentions("Later, Dupont said no.", "Jean Dupont"), mentions("Jean-Luc Dupré said no.", "Jean Dupont")
    (True, False)
    >>> mentions("Kim Jong Un called him a friend.", "Kim Jong Gyu"), mentions("Kim urged calm.", "Kim Jong Gyu")
    (False, True)
    >>> mentions("Kim urged calm.", "Kim Jong Gyu", before="The minister, Kim Hong Kyun, spoke.")
    False
    >>> mentions("After meeting Duda, Yoon spoke.", "Andrzej Duda"), mentions("Minister Kim Yong-hyun spoke.", "Kim Yong-hyun")
    (True, True)
    >>> mentions("South Ruritania pledged aid.", "North Ruritania"), mentions("Ruritania pledged aid.", "North Ruritania")
    (False, True)
    """
    names = [stem(w) for w in _NAME_WORD.findall(person)]
    parts, first = set(names), names[0] if len(names) > 1 else None
    for m in _NAME_WORD.finditer(text):
        if stem(m.group()) not in parts:
            continue
        # A name runs on across spaces only: every capitalised word that follows must be the person's.
        after = _NAME_WORD.findall(_RUN_ON.match(text, m.end()).group())
        if not all(stem(w) in parts for w in after):
            continue
        # ... and a qualifier said right before it makes it another name: "South Korea" is no "North Korea".
        ahead = re.search(r"([A-Z][a-z]+) +$", text[: m.start()])
        if ahead and ahead.group(1).lower() in NAME_QUALIFIERS and stem(ahead.group(1)) not in parts:
            continue
        if not after and stem(m.group()) == first:  # "Kim" of "Kim Jong Gyu": a family name said first
            named = [_NAME_WORD.findall(x.group(1)) for x in re.finditer(rf"\b{re.escape(m.group())}({_RUN_ON.pattern})", before)]
            named = [x for x in named if x]
            if named and not all(stem(w) in parts for w in named[-1]):
                continue  # the part stands for someone else named just before
        return True
    return False


def speaks(sentence: str, person: str, reach: int = 6) -> bool:
    """Whether `person` speaks in `sentence`: the run of capitalised words right after a verb of speech
    ("..., said Jean Dupont"), or the one nearest before it, within `reach` words and with no comma or
    bracket between ("Ambassador Jean Dupont said ...", "Dupont stated ..."), mentions them; being
    spoken to or of is not speaking.

    >>> speaks("In response, Dupont stated that he would pass it on.", "Jean Dupont")
    True
    >>> speaks("In response, Rome summoned the ambassador, Jean Dupont, to protest.", "Jean Dupont")
    False
    >>> speaks("Talks with Jean Dupont ended, Anna Berg said.", "Jean Dupont")
    False
    >>> speaks("“We will act,” said Jean Dupont, the envoy.", "Jean Dupont")
    True
    >>> speaks("Rome accused Jean Dupont of lying.", "Jean Dupont"), speaks("A pact with Dupont promising aid.", "Jean Dupont")
    (False, False)
    """
    found = list(_NAME_WORD.finditer(sentence))
    for i, m in enumerate(found):
        if stem(m.group()) not in SPEECH_STEMS:
            continue
        after = _RUN_ON.match(sentence, m.end()).group()  # "..., said Jean Dupont"
        if after and m.group().lower() in SAID_INVERTED and mentions(after.strip(), person):
            return True
        caps = [j for j in range(i - 1, max(-1, i - reach - 1), -1) if found[j].group()[:1].isupper()]
        if not caps or re.search(r"[,;:()]", sentence[found[caps[0]].end() : m.start()]):
            continue
        first = caps[0]
        while first > 0 and found[first - 1].group()[:1].isupper() and not sentence[found[first - 1].end() : found[first].start()].strip():
            first -= 1
        # The object of a preposition is not the one speaking: "a treaty with Ruritania promising aid".
        if first and found[first - 1].group().lower() in PREPOSITIONS:
            continue
        if mentions(sentence[found[first].start() : found[caps[0]].end()], person):
            return True
    return False


def given_name(word: str) -> bool:
    """A word that may be part of a person's name: capitalised, not an acronym ("FBI", "ET"); an
    initial ("E.") is one.

    >>> [given_name(w) for w in ["Kash", "FBI", "E.", "O'Sullivan", "CEO"]]
    [True, False, True, True, False]
    """
    return re.fullmatch(r"[A-Z]\.|[A-Z][a-z’'-][\w’'-]*\.?", word) is not None


def in_full(text: str, before: str) -> str:
    """The text with a person it names by the last part of their name alone ("Brady") given the rest of
    the name in brackets, as `before` (the article's title and the text that precedes) last named them
    in full: the editor's brackets of a quotation, so the words quoted stay the article's own.

    >>> in_full("This is the fourth time Brady won.", "Tom Brady, 45, was voted first.")
    'This is the fourth time [Tom] Brady won.'
    >>> in_full("Brady and Tom Brady's team won.", "Tom Brady played."), in_full("Brady won.", "Brady played.")
    ("Brady and Tom Brady's team won.", 'Brady won.')
    >>> in_full("Brady said Brady won.", "Tom Brady played.")
    '[Tom] Brady said Brady won.'
    >>> in_full("The Knicks won.", "New York Knicks fans waited.")  # "The" runs into no name
    'The [New York] Knicks won.'
    """
    full = {}
    for name in person_names(before):
        *given, last = name.split()
        # The given names only: back from the last part, up to a title or an acronym ("FBI Director").
        k = len(given)
        while k and given_name(given[k - 1]) and given[k - 1].lower().rstrip(".") not in NAME_TITLES:
            k -= 1
        given = given[k:]
        if given and given_name(last):
            full[last] = " ".join(given)  # the last one named so wins
    at = {}  # where each name is first said alone, and the rest of it
    for m in _NAME_WORD.finditer(text):
        word = re.sub(r"['’]s$", "", m.group())
        rest = full.get(word)
        if not rest or word in at.values() or f"{rest} {word}" in text:
            continue
        # Alone: no capitalised word runs into it or out of it ("Washington D.C.", "Tom Brady").
        ahead = re.search(r"([A-Z][\w’'.-]*)\s+$", text[: m.start()])
        if ahead and ahead.group(1).lower() not in STOPWORDS or _RUN_ON.match(text, m.end()).group():
            continue
        at[m.start()] = word
    for start in sorted(at, reverse=True):
        text = f"{text[:start]}[{full[at[start]]}] {text[start:]}"
    return text
