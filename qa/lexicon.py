"""Every word list and question pattern in one place, each with its purpose. Generic English and
news vocabulary only: nothing here is traced to one corpus or article.

Lists are plain lower-case words; modules that match stems stem them where they use them.
"""

from __future__ import annotations

import re

# --- words that carry no meaning of their own -----------------------------------------------------

# Function words and reporting verbs left out of term weights and keyword queries.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom whose why will
    with would you your yours yourself yourselves tell told say said says did does do according
    give gives given get got make made many much one ones anything something thing things
    whats who's what's where's there's it's""".split()
)

# The words a question starts with; they say what is asked, not what it is about.
QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())

# Closed-class words STOPWORDS leaves in (prepositions, conjunctions, adverbs of addition or exception):
# the "besides" of "Besides troops, what else ...?" names nothing, so articles that never use it are no
# sign that they cannot answer. Five articles need not say "besides"; with it counted as a word the
# articles lack, the seeds' own "what else" questions were refused at answerability 0.02.
FUNCTION_WORDS = frozenset(
    """along among amongst amid amidst across around behind beside besides beyond despite except onto
    toward towards upon via within without else apart instead whether though although yet however even
    ever still already""".split()
)

# British and American spellings of one word, as pairs of letter runs swapped inside it: a question may
# spell a word the other way from the articles ("defence" / "defense", "favourite" / "favorite",
# "organised" / "organized", "programme" / "program"). Tried both ways round.
SPELLING_VARIANTS = (("our", "or"), ("ence", "ense"), ("ise", "ize"), ("isa", "iza"), ("yse", "yze"),
                     ("tre", "ter"), ("ogue", "og"), ("elled", "eled"), ("elling", "eling"), ("mme", "m"))

# A typo may put one vowel for another even in a word's first letter ("embasador"): `qa.spelling.likely_typo`.
VOWELS = frozenset("aeiou")

# What a question asks for, by the words that open its asking, longest first: the word tagger
# (`qa.tagger`) learns what each looks like in an answer ("when" a figure, "who" a capitalised word).
ASKING = ("how many", "how much", "how old", "how long", "what year", "when", "where", "whom", "whose", "who",
          "which", "what", "why", "how")
# A word for the kind of thing a question opening with these words asks for, where it names none
# ("Who won?" asks for a person): the word tagger weighs how close in meaning each word of a sentence
# is to it (`qa.tagger.kinship`), as it weighs the noun a "which" question names.
KIND_WORDS = {"who": "person", "whom": "person", "whose": "person", "where": "place", "when": "date",
              "what year": "year", "how many": "number", "how much": "amount", "how old": "age",
              "how long": "duration"}
# The noun a "which"/"what" question names its answer by ("Which magazine ...", "What is the name of the
# river ..."): the answer often sits beside the same noun in the sentence ("the magazine Harper's").
ASKED_NOUN = re.compile(r"\b(?:which|what|whose)\s+(?:(?:is|was|are|were|the|a|an|of|kind|type|name)\s+)*([A-Za-z]+)",
                        re.I)

# Words that point back to something named earlier: a question holding one leans on the conversation.
PRONOUNS = frozenset(
    "he she they him her his hers their theirs them it its this that these those there then such".split()
)
# The pronouns that stand for a person as the doer or the one done to: a follow-up's "he" is answered
# by a sentence naming them or saying "he" itself ("his country" may be anyone's).
PERSON_PRONOUNS = frozenset("he she him her".split())

# A question that continues the last one without a pronoun: "And Moscow?", "Including weapons?",
# "What happens next?", "Since when have the two been getting closer?", "What about the others?".
LEANS_BACK = re.compile(
    r"^\s*(?:and|but|so|also|including|what about|how about|as for|then)\b|\bnext\b|\bthe two\b|\bthe others?\b"
    r"|\bthe (?:same|latter|former)\b|\bafterwards?\b|\belse\b",
    re.I,
)
# A follow-up asking for more than the answers gave ("Who else?", "What other figures?"): what was said
# is no answer to it.
ASKS_FOR_MORE = re.compile(r"\b(?:else|other|others|another|more|again|besides|apart from|aside from)\b", re.I)
# The asked types a sentence holds precisely enough (a date, a figure, an age ...) that a follow-up
# asking for one is answered by an earlier answer's sentence holding it ("When are they coming back?"
# after "The pandas will be at the zoo by the end of the year."). Names are not: most sentences hold one.
PRECISE_TYPES = frozenset({"date", "number", "amount", "age", "duration"})
# A sentence that asks, by its question word (after one word at most: "In which ..."): the last
# sentence of "When she died, the Queen left four dogs. Who will care for them?" says what is asked.
ASKING_SENTENCE = re.compile(r"(?:\w+ )?(?:how|when|what|which|who|whom|whose|where|why)\b", re.I)
# A question asked to be confirmed or denied ("Was it unanimous?"), by its leading auxiliary verb.
YES_NO = re.compile(r"^\s*(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.I)
# A question about what is to come after what the conversation told ("What happens next?", "What's
# next?", "What will happen now?"): it is answered by a sentence that speaks of the future (AHEAD).
NEXT_Q = re.compile(
    r"\bwhat(?:'s|’s| is| comes| happens| will happen| would happen)\s+(?:next|now)\b|\bnext steps?\b"
    r"|\bwhat will happen\b|\bwhat(?:'s|’s| is) (?:coming|ahead)\b",
    re.I,
)
# Words by which a sentence speaks of what is to come: the future tense, plans, expectations, schedules.
AHEAD = re.compile(
    r"\b(?:will|won't|shall|expected|expects?|set to|plans?|planned|planning|likely|soon|shortly|next|"
    r"upcoming|later|awaits?|awaiting|scheduled|going to|proceed|proceeds)\b|\w['’]ll\b",
    re.I,
)
# A follow-up that asks the last question again of someone else: "And Moscow?", "What about the NIS?".
TURN = re.compile(r"^\s*(?:and|but|what about|how about|as for)\b", re.I)
# A follow-up with no question of its own ("And Moscow?", "What about the NIS?"): it asks the last
# question again of something else, so it asks for the same kind of thing.
ELLIPSIS = re.compile(
    r"^\s*(?:and|but|also|what about|how about|as for)\s+(?!(?:what|who|whom|whose|when|where|why|how|which|did|does|do|is|are|was|were)\b)"
    r"[^?]{1,40}\?*\s*$",
    re.I,
)

# --- what a sentence holds ------------------------------------------------------------------------

# Verbs that report speech: "what did X say" is answered by a sentence with one of them.
SPEECH_VERBS = frozenset(
    """say said says state stated told tell quoted added noted declared warned responded replied
    emphasized stressed urged claimed announced described insisted argued informed expressed condemned
    denounced revealed confirmed denied pledged vowed promised highlighted underscored accused dismissed
    criticized criticised asserted explained acknowledged admitted suggested indicated remarked commented
    wrote tweeted posted labelled labeled branded""".split()
)
# Number words: a sentence with one of them holds a figure even without digits.
NUMBER_WORDS = frozenset(
    """hundred hundreds thousand thousands million millions billion billions dozen dozens two three four
    five six seven eight nine ten eleven twelve twenty thirty forty fifty""".split()
)
# Words that date a sentence ("on Thursday", "in October", "last week").
DATE_WORDS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december yesterday today week month year earlier later""".split()
)
# Verbs of speech that news writing puts before the speaker ("..., said Jean Dupont"); after any other
# verb the name is what is spoken of ("Rome accused Jean Dupont").
SAID_INVERTED = frozenset("said says added wrote noted told".split())
# Prepositions: a name after one is not the subject of the verb that follows ("a pact with Rome promising aid").
PREPOSITIONS = frozenset("with to from of by against on for about between among into toward towards at in".split())
# Words that make a run of capitalised words an organisation or place rather than a person.
NOT_PERSON = frozenset(
    """agency ministry council service office committee party union organization organisation company
    corporation news times post group forces army navy embassy parliament assembly summit house court
    department bank institute university association federation republic state states kingdom nations
    region province city north south east west central""".split()
)
# Nouns for a person by role or kin: "Which minister ...?" and "What is the name of the singer who ...?"
# ask for a person; "What is the name of the storm?" asks for a name of something else.
PERSON_NOUNS = frozenset(
    "official leader minister ambassador spokesperson spokesman spokeswoman chief general commander envoy "
    "diplomat lawmaker person president actor actress singer player coach author director ceo musician "
    "rapper writer inventor scientist founder manager producer man woman boy girl son daughter wife husband "
    "partner brother sister father mother uncle aunt student character".split()
)
# Words that, said before a name, make another name of it: "South Korea" is not "North Korea", nor is
# "New York" York.
NAME_QUALIFIERS = frozenset("north south east west northern southern eastern western new upper lower greater".split())
# Particles inside personal names ("Ursula von der Leyen", "Abu Bakr al-Baghdadi").
NAME_PARTICLES = "von|van|der|de|da|di|del|la|le|al|bin|ibn"
# A figure of money is not a count of things: "billions of dollars of tanks" says nothing of how many.
MONEY = re.compile(
    r"(?:[$€£¥]\s?[\d.,]+(?:\s?(?:thousand|million|billion|trillion|[mbk]n?)\b)?)"
    r"|(?:\b[\w.,]+\s+(?:thousand|million|billion|trillion)s?\s+(?:of\s+)?(?:dollars|euros|pounds|yen|won|rubles|roubles)\b)"
    r"|(?:\b[\w.,]+\s+(?:dollars|euros|pounds|yen|won|rubles|roubles)\b)",
    re.IGNORECASE,
)
# A stretch of time ("three-day visit", "10 years").
DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|few)[- ](?:day|week|month|year|hour)s?\b",
    re.IGNORECASE,
)
# Words that introduce a cause: a "why" question is answered by a sentence that gives one.
REASON = re.compile(r"\b(because|since|due to|after|as a result|in order to|so that|following|amid|over)\b", re.I)
# A person's age ("aged 71", "71-year-old", "71 years old", "(71)").
AGE = re.compile(r"\b(?:aged\s+\d{1,3}|\d{1,3}[- ]years?[- ]old|\d{1,3}-year-old)\b|,\s*\d{1,3},", re.IGNORECASE)

# Text addressed to an AI rather than to readers (a prompt injection planted in an article): quoted
# when asked about, never joined to another sentence to make an answer.
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier)\s+"
    r"(?:instructions?|prompts?|rules?)\b|\b(?:you are now|system prompt|as an ai)\b",
    re.IGNORECASE,
)

# --- questions ------------------------------------------------------------------------------------

# Questions about the articles themselves rather than the events: who published them, and when (or
# when they were last updated). The publishing must be the article's ("When was the report published?",
# "Who published it?"): a question about a book, a game or a study that was published asks for a fact
# (22 halueval questions and one realtimeqa question were answered with an article's date when any
# "published" counted).
_PUBLISH = r"(?:published|publish|publication|publisher|posted|put online|updated|modified)"
_NEWS_ITEM = r"(?:article|report|story|piece|dispatch)s?"
_ASKS_WHEN_OR_WHO = r"^\W*(?:when|who|what (?:day|date|time|year)|which (?:outlet|agency|site|newspaper|paper))\b"
ABOUT_THE_ARTICLE = re.compile(
    rf"{_ASKS_WHEN_OR_WHO}[^?]*\b{_NEWS_ITEM}\b[^?]*\b{_PUBLISH}\b"  # "When was the report ... published?"
    rf"|{_ASKS_WHEN_OR_WHO}[^?]*\b{_PUBLISH}\b[^?]*\b(?:the|this|that|these|those) {_NEWS_ITEM}\b"
    rf"|\bbyline\b|\b(?:was|were) (?:it|this|that|they|these|those) (?:first )?published\b"
    rf"|\b{_PUBLISH}\s+(?:it|them)\W*$|^\W*(?:who|when)\W+(?:(?:is|was|were) )?(?:the )?{_PUBLISH}\W*$", re.I)
# A question asking for a reported quantity ("how many troops"), whose reports may differ; not one asking
# for a difference ("how many more does he need"), which no report states as such; nor "What is the
# number one hit?".
QUANTITY_Q = re.compile(
    r"\bhow (?:many|much|large)\b(?!\s+(?:more|fewer|less)\b)"
    r"|\bwhat (?:is|was|were|are) the (?:number of|size of|total|figure)\b", re.I
)
# A question for the events in order; "in order to" gives a purpose ("Which county did he move to in
# order to farm?" was answered with a timeline). "Step by step" asks for the events when it opens or
# closes the question or comes with what happened; inside it says how something is done ("Apart from
# backing Ukraine step by step, what else did he say ...?" was answered with a timeline).
TIMELINE_Q = re.compile(
    r"\btimeline\b|\bchronolog|\bin (?:chronological )?order\b(?! to\b)|\bsequence of events\b|\border of events\b"
    r"|^\W*step by step\b|\bstep by step\W*$|\bstep by step\b.*\bhappen|\bhappen\w*\b.*\bstep by step\b"
    r"|\bwhat happened when\b",
    re.I,
)
# Asking how reports compare; "has been compared to" only describes the thing asked about ("How many
# novels are in the series it has been compared to?" was answered with the reports' figures).
COMPARE_Q = re.compile(
    r"\b(?<!been )(?<!was )(?<!were )(?:compar|differ|versus|vs\b|discrepan|contradict"
    r"|disagree|conflict|match)", re.I)
# (A lone "figure" is too often a person: "which historical figure"; "figures" is the plural of a count.)
FIGURE_Q = re.compile(r"\b(?:counts?|figures|numbers?|estimates?|tall(?:y|ies)|totals?|how many|how much)\b", re.I)
# Words about figures and reports rather than about what is counted ("how do the counts compare").
META_WORDS = ("compare comparison differ different count counts figure figures number numbers estimate "
              "estimates report reports reported total tally versus disagree conflict match agree articles article "
              "sources source stories story accounts outlets seem")
# Words that ask for events in order rather than about one event.
TIMELINE_WORDS = ("timeline chronology chronological order sequence events event happened happen give list show "
                  "steps step when date dates")

# --- figures: what is counted, how precisely, who said so ----------------------------------------

# People under arms are reported with many nouns; they count the same thing. Generic, not per corpus.
PEOPLE_UNDER_ARMS = frozenset(
    """soldiers soldier troops troop forces force personnel servicemen servicemembers fighters combatants
    commandos marines mercenaries recruits conscripts reservists paratroopers infantrymen militants""".split()
)
# Plurals that do not end in "s", and uncountable nouns that still take a count.
IRREGULAR_PLURALS = frozenset("people personnel men women children police staff militia cattle".split())
CURRENCIES = {"$": "dollars", "us$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
CURRENCY_WORDS = {"dollars": "dollars", "euros": "euros", "pounds": "pounds", "won": "won", "yen": "yen",
                  "rubles": "rubles", "roubles": "rubles", "yuan": "yuan", "hryvnias": "hryvnias"}
# Money per period: a yearly cost or a monthly wage is not the same kind of figure as a price or a
# total ("the bridge cost $35 million" against "the library costs $3 million a year"). The period
# follows the figure ("a year", "per month", "annually") or comes before it ("an annual budget of").
PERIOD_WORDS = r"annual|yearly|monthly|weekly|daily|hourly"
PERIOD = rf"(?:(?:a|an|per|each|every)\s+(year|month|week|day|hour)\b|\b({PERIOD_WORDS}|annually)\b)"
RATE = re.compile(PERIOD, re.IGNORECASE)
RATE_AFTER = re.compile(r"^\s*(?:\w+\W+){0,3}?" + PERIOD, re.IGNORECASE)
RATE_BEFORE = re.compile(rf"\b({PERIOD_WORDS})\W+(?:\w+\W+){{0,3}}$", re.IGNORECASE)
# A price per unit right after a money figure ("$3 per gallon", "$46 a share"): a unit price, which no
# total sets against.
UNIT_AFTER = re.compile(r"^\s*(?:a|an|per)\s+([a-z]+)\b", re.IGNORECASE)
SCALES = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
# Vague quantities and the range each stands for.
VAGUE = {
    "dozens": (24.0, 200.0),
    "scores": (40.0, 200.0),
    "hundreds": (200.0, 1e3),
    "thousands": (1e3, 1e6),
    "tens of thousands": (1e4, 1e5),
    "hundreds of thousands": (1e5, 1e6),
    "millions": (1e6, 1e9),
    "tens of millions": (1e7, 1e8),
    "billions": (1e9, 1e12),
    "tens of billions": (1e10, 1e11),
}
UPPER = ("up to", "as many as", "at most", "no more than", "fewer than", "less than", "under")
LOWER = ("at least", "more than", "over", "upwards of", "no fewer than", "in excess of")
ABOUT = ("about", "around", "approximately", "roughly", "nearly", "almost", "some", "an estimated",
         "close to", "an estimate of")
SPEECH = re.compile(
    r"\b(said|says|saying|stated|states|told|revealed|reveals|reported|reports|reporting|claimed|claims|"
    r"claiming|accused|accusing|accuses|announced|announces|confirmed|confirms|estimated|estimates|"
    r"indicated|briefed|alleged|alleges|warned|believes|believed|observed)\b"
)
# Lowercase nouns that may end a speaker's name ("U.S. officials", "the capital's spy agency").
AGENT_NOUNS = frozenset(
    """officials official agency ministry media intelligence service services government spokesperson
    spokesman spokeswoman sources source analysts experts lawmakers mission office military army
    command president minister chief police authorities spy army""".split()
)
# Titles and roles said before a person's name ("Gov. Wes Moore", "FBI Director Kash Patel"): the
# words of a name before its last part stop at one of them when an answer gives the rest of the name.
NAME_TITLES = frozenset(
    """president vice prime minister secretary director chief staff deputy gov governor sen senator rep
    representative congressman congresswoman dr mr mrs ms miss sir dame lord lady gen general maj major col
    colonel lt capt captain sgt adm admiral judge justice king queen prince princess pope rev reverend
    coach chairman chairwoman chair ceo founder speaker leader mayor ambassador commissioner inspector
    officer detective agent professor prof st saint former late star quarterback guard forward""".split()
)
FILLERS = frozenset("had has have was were is are also previously later earlier then had already first reportedly".split())

# --- time -----------------------------------------------------------------------------------------

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"

# --- questions about the whole collection ---------------------------------------------------------

# Nouns for the loaded articles themselves ("the articles", "these stories", "your sources").
COLLECTION_NOUNS = r"(?:articles|documents|stories|reports|texts|files|sources|news|pieces|corpus|collection)"
# "Summarize", "give me an overview (of X)", "tl;dr", "what are these articles about": a digest,
# of everything or of the topic the rest of the question names.
OVERVIEW_Q = re.compile(
    r"\bsummar(?:y|ies|ise|ize|ising|izing)\b|\boverview\b|\btl;?\s?dr\b|\bgist\b|\brecap\b|\bdigest\b"
    r"|\bbrief me\b|\b(?:main|key) (?:points|stories|topics|themes|events)\b|\bin a nutshell\b"
    r"|\bwhat (?:are|is) (?:the|these|those|your|all the) " + COLLECTION_NOUNS + r" (?:all )?about\b"
    r"|\bwhat do (?:the|these|those|your) " + COLLECTION_NOUNS + r" (?:say|cover|report)\b",
    re.I,
)
# The words of an overview request that are not its topic ("give me an overview of how X" -> X).
OVERVIEW_WORDS = ("summary summaries summarize summarise summarizing summarising overview tl dr tldr gist recap "
                  "digest brief main key points stories topics themes events nutshell articles article "
                  "documents texts files sources news pieces corpus collection cover covered report reports "
                  "give short quick please provide write")
# "What happened on Thursday / on 29 October / this week", "anything on Friday?": a day's events
# (a dated question also names a time; the classifier checks that).
HAPPENED_Q = re.compile(
    r"^\s*(?:and\s+|so\s+|ok(?:ay)?,?\s+)?(?:what|which events?|tell me what|anything|something)\b.{0,24}?"
    r"\b(?:happen(?:ed|s|ing)?|occurr?(?:ed|s|ing)?|took place|went on|was going on|was new|was reported)\b"
    r"|^\s*(?:and\s+|so\s+)?(?:anything|news|events)\b(?:\s+(?:else|new|at all))?\s+(?:on|from|for|in|this|last)\b",
    re.I,
)
# "Which article is most recent?", "what's the latest?", "the oldest report": publication dates
# ("the oldest dog" is a fact, not a question about the articles).
LATEST_Q = re.compile(
    r"^\s*(?:so\s+|and\s+)?what(?:'s| is| are)? (?:the )?(?:latest|newest|new)(?: news| developments?| updates?)?\s*[?.!]*$"
    r"|\b(?:latest|most recent|newest|oldest|earliest|least recent)\b(?:\s+[\w-]+){0,2}?\s+"
    r"(?:article|story|report|news|update|piece|document|development)s?\b"
    r"|\b(?:article|story|piece|document)s?\b.{0,30}\b(?:latest|most recent|newest|oldest|earliest)\b",
    re.I,
)
# Of those, the ones asking for the earliest publication.
EARLIEST_Q = re.compile(r"\b(?:oldest|earliest|least recent)\b", re.I)
# "Which articles do you have", "how many articles", "when were they published", "list the sources".
CATALOGUE_Q = re.compile(
    r"\b(?:which|what|list|show|name)\b(?:\s+\w+){0,3}\s+" + COLLECTION_NOUNS + r"\b.*\b(?:have|loaded|got|are there|"
    r"do you|does it|contain|include|available|know|there)\b"
    r"|\b(?:list|show|name)\b(?:\s+(?:me|all|the|your|of))*\s+" + COLLECTION_NOUNS + r"\b"
    r"|\bhow many " + COLLECTION_NOUNS + r"\b"
    r"|\b(?:when|where|who|by whom)\b.{0,40}\b(?:these|those|the|your|all|they)\b\s*" + COLLECTION_NOUNS
    + r"?\s*\b(?:published|written|from|dated|publish)\b"
    r"|\b(?:when|who) (?:published|wrote) (?:the|these|those|your|all|all the) " + COLLECTION_NOUNS + r"\b"
    r"|\bwhat (?:sources|publishers|outlets)\b",
    re.I,
)
# Small talk and questions about the assistant itself: answered with a short help text, never refused.
GREETING_ONLY = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day)|thanks|thank you|"
    r"thx|cheers|ok(?:ay)?|bye|goodbye)(?:\s+(?:there|again|all|everyone|bot|assistant))?[\s!.,?:)]*$",
    re.I,
)
HELP_Q = re.compile(
    r"\bwhat (?:can|do|could) you (?:do|help)\b|\bhow (?:does|do) (?:this|it|you) work\b|\bwho are you\b"
    r"|\bwhat are you\b|\bhow (?:do|can|should) i (?:use|ask)\b|\bwhat (?:can|should|could) i ask\b"
    r"|^\s*help\b|\bhelp me (?:get started|start)\b|\bhow to use\b"
    # "What is this?" asks about the tool; "What is this pact about?" about the news.
    r"|^\W*what(?: is|'s) this(?: (?:tool|app|thing|assistant|bot|chat|site|page|service))?(?: (?:for|about))?\W*$",
    re.I,
)
# Asked across the articles: "how do the articles differ on X", "do the reports agree about X".
ACROSS_REPORTS_Q = re.compile(
    r"\b" + COLLECTION_NOUNS + r"\b.{0,40}\b(?:agree|disagree|differ|diverge|contradict|compare|vary|conflict)"
    r"|\b(?:agree|disagree|differ|diverge|contradict|compare|vary|conflict)\w*\b.{0,40}\b" + COLLECTION_NOUNS + r"\b"
    r"|\b(?:don'?t|do not|doesn'?t|does not|never) (?:seem to )?agree\b",
    re.I,
)

# A figure in a clause opened by one of these is a condition or a supposition, not a report:
# "would not remain passive if Pyongyang sent thousands of troops".
HYPOTHETICAL = re.compile(r"\b(?:if|unless|whether|in case|suppose|supposing|hypothetically|were it to)\b", re.I)
# A question asking what someone said: a verb of speech after "did", "does" ... ("What did Seoul say?",
# "How did Rome respond?"), or a noun of it after "was" or "is" ("What was Rome's response?").
SPEECH_ASKED_VERBS = "say|respond|react|reply|state|tell|warn|claim|announce|describe"
SPEECH_ASKED_NOUNS = "response|reaction|statement"
# Whose words a speech question asks for, when it names them bare, as the subject of its verb of speech
# or the owner of the response: "What did the Kremlin say ...?", "How did Anna Berg respond?", "What was
# Ruritania's response?". A name with a role after it ("Ruritania's foreign minister") is not the speaker.
_SPEAKER_NAME = r"[A-Z][\w’'.-]*(?: [A-Z][\w’'.-]*)*"
SPEAKER = re.compile(
    rf"^(?i:what|how) (?i:did|does|do|will|would) (?:the )?(?P<subject>{_SPEAKER_NAME}) (?i:{SPEECH_ASKED_VERBS})\b"
    rf"|^(?i:what) (?i:was|is) (?:the )?(?P<owner>{_SPEAKER_NAME})['’]s (?i:{SPEECH_ASKED_NOUNS})\b"
)
