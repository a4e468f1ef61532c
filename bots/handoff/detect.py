"""Spotting, before any model call, a user who asks for a person (and a short yes to our offer)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Detection:
    """Which rule table fired; never the message itself, so it is safe to log."""

    language: str
    rule: str


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    # Rules whose match starts at a verb of wanting or contacting can be cancelled by what comes
    # just before it ("I don't want to talk to a human", "am I talking to a person?").
    guarded: bool = True


def wants_human(text: str) -> bool:
    return detect(text) is not None


def detect(text: str) -> Detection | None:
    normal = _normalise(text)
    if not normal:
        return None
    for language, rules in _RULES:
        for rule in rules:
            for match in rule.pattern.finditer(normal):
                if rule.guarded and _cancelled(normal[: match.start()], language):
                    continue
                return Detection(language, rule.name)
    return None


def is_affirmative(text: str) -> bool:
    """A short yes ("yes please", "sure", "oui", "ja gerne", "yes, get me a person").

    Used only right after the bot offered a person, so it must stay strict. A false yes hands a
    finished conversation to the staff; a missed one only brings the offer back. So:

    - it needs a word that says yes ("yes", "sure", "go ahead", "oui", "gerne", "certo");
    - an acknowledgement ("ok", "vale", "d'accord") or a thank-you alone is a polite close, not a
      yes ("ok thanks", "merci"); "ok" counts only when a yes or a "please" follows ("ok please",
      "ok go ahead");
    - anything that adds a question or topic ("yes but what time do you close?") is not a yes
      to the offer; the only tail allowed is the request itself ("yes, get me a person").
    """
    peeled = _peel_reply(text)
    if peeled is None:
        return False
    kinds, rest = peeled
    if _NO in kinds:
        return False
    if rest:
        return bool(kinds) and len(rest.split()) <= 6 and wants_human(rest)
    return _YES in kinds or (_ACK in kinds and _PLEASE in kinds[kinds.index(_ACK) :])


def is_decline(text: str) -> bool:
    """A short no, or a polite close, in reply to the offer of a person.

    "no", "no thanks", "nein danke", "non merci", "no gracias", "いいえ、結構です", "不用了谢谢",
    "nee hoor", and a bare "ok thanks" or "merci" (which `is_affirmative` already refuses to
    read as a yes). Anything more ("no, but what time do you open?") is a new question, and a
    yes word or a "please" ("ok please") makes it not a decline.
    """
    peeled = _peel_reply(text)
    if peeled is None:
        return False
    kinds, rest = peeled
    if rest or not kinds or _YES in kinds or _PLEASE in kinds:
        return False
    return _NO in kinds or _ACK in kinds or _THANKS in kinds


def _peel_reply(text: str) -> tuple[list[str], str] | None:
    """The reply words at the front of a short message, by kind, and what follows them.

    None for an empty or long message (more than 8 words), which is never a short reply.
    """
    normal = _normalise(text)
    words = [w for w in normal.split() if w != "."]
    if not words or len(words) > 8:
        return None
    rest = " ".join(words)
    kinds: list[str] = []
    # Peel reply words off the front: "yes please", "oui merci", "ok, go ahead".
    while (found := _REPLY_HEAD.match(rest)) is not None:
        kinds.append(_REPLY_WORDS[found.group(1)])
        rest = rest[found.end() :].lstrip()
    return kinds, rest


# --- normalisation ---------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "-": " "})
_PUNCTUATION = re.compile(r"[^\w\s']+")
_SPACES = re.compile(r"\s+")
# Swear words and intensifiers sit between the article and the noun ("a fucking human") and
# never change what is asked; dropping them keeps every noun-phrase pattern simple.
_FILLERS = _words(
    "fucking fuckin fking effing freaking freakin frickin damn damned goddamn goddamned bloody "
    "bleeding flipping dang darn"
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _normalise(text: str) -> str:
    """Lower case, accents folded, punctuation runs as a lone ".", typos in key words fixed."""
    # A request for a person is short or comes early; the cap bounds the time on pasted logs.
    folded = _fold(text[:2000]).translate(_APOSTROPHES)
    spaced = _PUNCTUATION.sub(" . ", folded)
    words: list[str] = []
    for word in _SPACES.split(spaced):
        if not word or word in _FILLERS:
            continue
        words.extend(_repair(word))
    return " ".join(words)


# Typo repair. Real users (and the noisy data sets) write "humna", "ocntact", "tospeak"; the
# rules below only need their key words right, so a word that is one edit away from a key word
# (and is not itself a common word) is read as that key word. The key words are the long,
# distinctive ones: a short word is too often one edit away from an unrelated real word.
_KEY_WORDS = _words(
    "human humans person persons someone somebody agent agents operator representative "
    "assistant speak speaking talking chatting contact contacting transfer available supervisor "
    "manager customer service support talk with"
)
# Real words one edit away from a key word: they mean what they say ("you arent helping" is
# not about an agent, "taking" is not "talking").
_NOT_TYPOS = _words(
    "humane humus persona parson someones agenda argent urgent arent anent "
    "sneak steak speck spear speaks peak walking stalking balking taking tacking tasking "
    "tanking charting chattin contract contacts contracts contracting transfers operators "
    "supervisors managers managed manages manger customers services serviced servile supports "
    "humanly walk tall tale talc balk task tack tank stalk talks wish wits witch width withe "
    "pith kith thereto"
)
# Words glued together ("tospeak", "Italk", "issomeone", "humanagent"): split in two when both
# halves are words the rules read and the longer half is not a two-letter scrap ("toan" stays).
_GLUE_SHORT = _words("to i is a an u me there chat")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _build_typo_index(words: Iterable[str]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for word in words:
        for key in _deletes(word) | {word}:
            index.setdefault(key, set()).add(word)
    return index


_TYPO_INDEX = _build_typo_index(_KEY_WORDS)


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@lru_cache(maxsize=4096)
def _repair(word: str) -> tuple[str, ...]:
    if not 4 <= len(word) <= 24 or not word.isalpha():
        return (word,)
    if word in _KEY_WORDS or word in _NOT_TYPOS or word in _PROTECTED:
        return (word,)
    candidates = set(_TYPO_INDEX.get(word, ()))
    for key in _deletes(word):
        candidates |= _TYPO_INDEX.get(key, set())
    close = sorted(c for c in candidates if _one_edit(word, c))
    if len(close) == 1:
        return (close[0],)
    for cut in range(1, len(word)):
        head, tail = word[:cut], word[cut:]
        known = {head, tail} <= _KEY_WORDS | _GLUE_SHORT
        if known and max(len(head), len(tail)) >= 4:
            return (head, tail)
    return (word,)


# --- guards ----------------------------------------------------------------------------------

# What just before a match turns it into something else: a refusal ("I don't want to talk to a
# human"), or a question about the conversation itself ("am I talking to a person?"). "Can't"
# is deliberately absent: "I can't reach an agent" is a request.
_CANCEL = {
    "en": re.compile(
        # The negation must govern the request itself ("I don't really want to talk to..."),
        # not an earlier complaint ("you're not helping so talk to a human").
        r"(?:\b(?:don'?t|do not|doesn'?t|does not|didn'?t|did not|never|no need to|not|without"
        r"|rather not|won'?t|will not|wouldn'?t|instead of)\s+(?:(?:really|even|actually|ever"
        r"|want|wanna|need|wish|like|have|going|gonna|trying|care|to|be)\s+){0,3}"
        r"|\b(?:am i|are we|was i|were we|have i been|i am|i'?m|im|is this|are you|r u|is it)"
        r"\s+(?:\w+\s+)?"
        # Whether a person is *required* ("do I have to talk to someone to close my account?").
        r"|\b(?:do|does|will|would|must) (?:i|we|you|one) (?:have|need|got) to\s+(?:\w+\s+)?"
        # A noun, not a verb: "I made a transfer to someone".
        r"|\b(?:a|an|the|my|your|his|her|their|our)\s+)$"
    ),
    "es": re.compile(r"\b(?:no|nunca|sin|ni)\s+(?:\w+\s+){0,2}$|\b(?:estoy|eres|es)\s+$"),
    "fr": re.compile(r"\b(?:ne|n'|pas|jamais|sans)\s*(?:\w+\s+){0,2}$|\b(?:suis je|es tu)\s+$"),
    "de": re.compile(r"\b(?:nicht|kein\w*|nie|ohne)\s+(?:\w+\s+){0,2}$"),
    "pt": re.compile(r"\b(?:nao|nunca|sem)\s+(?:\w+\s+){0,2}$|\b(?:estou|voce e|e)\s+$"),
    "it": re.compile(r"\b(?:non|mai|senza)\s+(?:\w+\s+){0,2}$|\b(?:sto|sei)\s+$"),
    "nl": re.compile(r"\b(?:niet|geen|nooit|zonder|hoef|hoeft)\s+(?:\w+\s+){0,3}$"),
    "sv": re.compile(r"\b(?:inte|ingen|aldrig|utan|behover_inte)\s+(?:\w+\s+){0,3}$"),
}


def _cancelled(before: str, language: str) -> bool:
    guard = _CANCEL.get(language)
    return guard is not None and guard.search(before[-60:]) is not None


# --- rule tables -----------------------------------------------------------------------------

_END = r"(?=\s*(?:\.|$))"


def _compile(pattern: str) -> re.Pattern[str]:
    # Readable sources: " ?" is optional space, " " a word gap, "_" a space inside a phrase.
    return re.compile(pattern.replace(" ?", r"\s*").replace(" ", r"\s+").replace("_", " "))


# English. The noun phrases are closed: a determiner, a few adjectives that make a person *more*
# of a person ("real", "live", "actual"), then a person noun. That is what keeps "my travel agent"
# and "a real estate agent" out while "a real live human agent" stays in.
_EN_DET = (
    r"(?:(?:a|an|the|some|any|one|another|other|a_different|one_of_(?:your|ur|the)|your|ur) )?"
)
_EN_ADJ = (
    r"(?:(?:real|live|actual|human|physical|living|breathing|flesh_and_blood|real_life|proper"
    r"|different|senior|qualified|customer|client|support|service|care|sales|technical|tech"
    r"|help_?desk) )*"
)
_EN_ANYONE = r"(?:someone|somebody|anyone|anybody|some_one)"
# The business as a whole, for "a member of your team" and "someone from the restaurant". A
# determiner is required: "someone from the restaurant" is staff, "someone from Paris" is not.
_EN_ORG = (
    r"(?:(?:the|your|ur|our|this) )(?:team|staff|crew|personnel|restaurant|cafe|bar|pub|shop"
    r"|store|hotel|company|business|office|reception|front_desk|kitchen|management|venue|place"
    r"|salon|clinic|bakery|branch|support|sales|service|desk)\b"
)
# People who work there. "assistant" counts only after a verb of contact ("speak to an
# assistant"); alone it is too often the bot itself.
_EN_STAFF = (
    r"(?:human(?:s|_being|_beings)?|person|persons|agents?|operators?|representatives?|reps?"
    r"|staff(?:_members?)?|team_members?|employees?|managers?|supervisors?|advisors?|advisers?"
    r"|associates?|consultants?|specialists?|(?:real|live|actual) (?:people|one)"
    # "a colleague of yours", "one of your workers", "a bank worker" (one word of trade first).
    r"|colleagues?(?: of (?:yours|ours))?|(?:\w+ )?workers?"
    r"|members? of (?:(?:the|your|ur|our|this) )?(?:staff|team|crew|personnel)"
    rf"|{_EN_ANYONE} (?:from|at|in|on|of) {_EN_ORG})"
)
# Who runs or serves at the business. They count only after a verb of contact or moving ("can
# I speak to the owner"), never in availability or terse rules ("is there a chef on Sundays?").
# "server" and "host" are more often machines ("talk to the server"): see the role-request rule.
_EN_ROLE = (
    r"(?:owners?|proprietors?|boss|waiters?|waitress(?:es)?|wait_?staff|waiting_staff"
    r"|head_waiter|chefs?|head_chef|receptionists?|hostess(?:es)?|bartenders?|baristas?"
    r"|concierge|maitre_d|duty_manager)"
)
_EN_TEAM = (
    r"(?:(?:the|your|ur) )?(?:customer|client|tech(?:nical)?) (?:service|support|care)"
    r"(?: (?:team|desk|department|line))?|(?:(?:the|your|ur) )?(?:support|help_?desk)"
    r"(?: (?:team|desk|department|line|staff))?"
    # The people there as a whole: "forward me to your team", "talk to your staff".
    r"|(?:the|your|ur) (?:team|staff|people|colleagues|office)(?! (?:page|account|plan|meeting))"
)
_EN_WHO = rf"(?:{_EN_DET}{_EN_ADJ}(?:{_EN_STAFF}|assistants?)|{_EN_ANYONE}(?: real)?|{_EN_TEAM})\b"
_EN_WHO_OR_ROLE = rf"(?:{_EN_WHO}|{_EN_DET}{_EN_ROLE}\b)"
_EN_WANT_WHO = rf"{_EN_DET}{_EN_ADJ}{_EN_STAFF}\b"
_EN_TALK = r"(?:talk|talking|speak|speaking|chat|chatting|converse|discuss_this|discuss_it)"
_EN_REACH = (
    r"(?:contact|contacting|reach|reaching|get_in_touch_with|get_hold_of|get_ahold_of"
    r"|getting_hold_of|get_through_to|in_touch_with)"
)
_EN_MOVE = (
    r"(?:connect|connecting|transfer|transferring|put|putting|pass|forward|redirect|direct"
    r"|route|hand|patch|escalate|escalating|switch|bring)"
)
_EN_RULES = (
    # A verb of conversation aimed at a person: "can I talk to a real person", "chat with
    # someone", "speak to customer service".
    _Rule("talk-to-person", _compile(rf"\b{_EN_TALK} (?:(?:to|with|wit) )+{_EN_WHO_OR_ROLE}")),
    # Reaching a person is a request for one; reaching a *department* ("contact customer
    # service") is usually a request for its phone number, which the FAQ may answer.
    _Rule(
        "reach-person",
        _compile(
            rf"\b{_EN_REACH} (?:{_EN_DET}{_EN_ADJ}(?:{_EN_STAFF}|{_EN_ROLE}|assistants?)"
            rf"|{_EN_ANYONE})\b"
            # Someone elsewhere is not a person here: "contacting someone on github".
            r"(?! (?:on|via) (?!(?:your|ur|our|the_(?:phone|line|team|staff)|staff|duty)\b))"
        ),
    ),
    # Moving the conversation: "transfer me to an agent", "put me through to someone",
    # "escalate this to a manager". The object (me, us, this, my call) keeps "connect to wifi"
    # and "send a text to someone" out.
    _Rule(
        "move-me-to-person",
        _compile(
            rf"\b{_EN_MOVE} (?:me|us|this|it|my_(?:call|chat|case|ticket|issue|question)) "
            rf"(?:(?:through|over|back|up|on) )?(?:to|with|towards) {_EN_WHO}"
            # A role only when the user is what moves: "transfer it to the owner" is money.
            rf"|\b{_EN_MOVE} (?:me|us) (?:(?:through|over|back|up) )?(?:to|with) "
            rf"{_EN_DET}{_EN_ROLE}\b"
            # Without an object only staff will do: "transfer to someone" is often money.
            rf"|\b{_EN_MOVE} (?:(?:through|over|back|up) )?(?:to|with|towards) (?:me )?"
            rf"(?:{_EN_DET}{_EN_ADJ}(?:human|agent|operator|representative|rep|staff|manager"
            rf"|supervisor|(?:real|live|actual) (?:people|person))s?\b|{_EN_TEAM})"
            # The passive of a request ("can I be transferred to an agent"), not of a story
            # ("I was transferred to an agent yesterday").
            rf"|\b(?:be|get|getting|being) (?:transferred|connected|put_through|passed|redirected"
            rf"|forwarded|escalated|handed_over) (?:to|with) {_EN_WHO}"
        ),
    ),
    # Asking for a person as an object: "I want a human", "get me a manager", "I need an
    # agent". It must end the clause (or go on with "please", "now", "to talk"), so "I need an
    # agent to book my flight" and "I want a human resources contact" stay out.
    _Rule(
        "want-person",
        _compile(
            rf"\b(?:want|wanna|need|needs|(?:would|'d|\bid) like|prefer|request|requesting|demand"
            rf"|require|get_me|give_me|gimme|find_me|bring_me|send_me|put_me_on_with|get"
            rf"|(?:can|could|may)_i_have) (?:to_(?:have|get|see) )?"
            rf"(?:{_EN_WANT_WHO}|(?:some )?human_(?:help|assistance|support))"
            rf"(?:{_END}| (?:please|pls|plz|now|asap|right_now|instead|here|immediately"
            rf"|on_the_(?:line|phone)|not_a_bot|not_a_robot|not_a_machine"
            rf"|to_(?:talk|speak|chat|call)))"
        ),
    ),
    # "is there a human available?", "is there anyone I can talk to": a person's availability.
    _Rule(
        "person-available",
        _compile(
            rf"\b(?:(?:is|are|'s) (?:there|their)|(?:there|their) (?:is|are|'s)) "
            rf"(?:(?:any|a|an|some) )?{_EN_ADJ}"
            rf"(?:{_EN_STAFF}|{_EN_ANYONE}) (?:(?:available|online|around|free|on_duty|here)"
            rf"(?:{_END}| (?:now|right_now|today|please|to_(?:talk|speak|chat)))"
            rf"|i_can_(?:talk|speak|chat)|to_(?:talk|speak|chat))"
        ),
    ),
    # A person calling back: "can someone call me", "have an agent contact me".
    _Rule(
        "person-call-me",
        _compile(
            rf"\b(?:have|get|can|could|let|would|will) (?:{_EN_DET}{_EN_ADJ}{_EN_STAFF}"
            rf"|{_EN_DET}{_EN_ROLE}|{_EN_ANYONE}) (?:please )?(?:call|phone|ring|contact|email"
            r"|text) (?:me|us)\b"
            rf"|\b(?:can|could|would|will) {_EN_DET}{_EN_ADJ}{_EN_STAFF} (?:please )?"
            rf"(?:help|assist|look_at|take_over|handle|deal_with) (?:me|us|this|it|my)\b"
        ),
        guarded=False,
    ),
    # "server" and "host" name machines as often as people ("my app can't talk to the server"),
    # so they count only in a first person's request to speak: "can I speak to our server?".
    _Rule(
        "speak-to-server",
        _compile(
            r"\b(?:(?:can|could|may) (?:i|we) (?:please )?|(?:i|we)(?:_would)? (?:like|want"
            r"|need) to |(?:i'd|id|we'd) like to )(?:speak (?:to|with) (?:the|a|an|our|my|your)"
            r"|talk (?:to|with) (?:our|my)) (?:server|host)s?\b"
        ),
    ),
    # Someone to talk to, as the thing wanted: "I need someone to talk to", "find me a person I
    # can speak with".
    _Rule(
        "someone-to-talk-to",
        _compile(
            rf"\b(?:need|want|wanna|like|find|get|have|give_me) (?:{_EN_ANYONE}|{_EN_WANT_WHO})"
            rf" (?:(?:real|who_is_real) )?(?:i_can|i_could|to) (?:talk|speak|chat)\b"
            rf"|\b(?:get|give|bring) me {_EN_ANYONE}(?: real)?(?:{_END}| (?:please|now))"
        ),
    ),
    # Help from a person as the thing asked for: "I'd like human assistance with my refund",
    # "do you have human support?", "is there live support?".
    _Rule(
        "human-help",
        _compile(
            r"\b(?:human|real_person|live_person|a_person's|personal|live|real_human)"
            r" (?:assistance|help|support|contact|agent_support)\b(?! (?:resources|rights))"
        ),
    ),
    # Getting a person onto the case: "is it possible to get a real agent on this?", "get a
    # colleague of yours to answer this".
    _Rule(
        "get-person-on-it",
        _compile(
            rf"\b(?:get|have|find) (?:me )?{_EN_WANT_WHO}"
            r" (?:on_(?:this|it|the_line|my_case)|to_(?:answer|look_at|handle|help_with|call)"
            r"|who_can_help|for_me)"
        ),
    ),
    # Asking to escalate the conversation itself.
    _Rule(
        "escalate",
        _compile(
            r"\bescalat(?:e|ing) (?:(?:this|it|me|my_(?:case|ticket|issue|complaint|request))"
            rf"(?:{_END}| (?:please|now|to))|please|now)"
        ),
    ),
    # Terse demands: the whole message is a person noun, maybe with "please" ("agent please",
    # "human pls", "representative!", "live agent", "operator").
    _Rule(
        "person-only",
        _compile(
            rf"^(?:(?:please|pls|plz|hey|hi|hello|ok|yes|just) (?:\. )?)*(?:i_want )?"
            rf"{_EN_DET}(?:(?:real|live|actual|human) )*"
            rf"(?:{_EN_STAFF}|customer_(?:service|support|care)|live_chat|real_one"
            rf"|human_(?:help|assistance|support))"
            rf"(?: (?:\.|please|pls|plz|now|asap|thanks|thank_you|needed|required|here))*$"
        ),
        guarded=False,
    ),
)

# Spanish. Nouns for a person who works there; adjectives ("real", "humano", "de verdad") come
# after the noun.
_ES_WHO = (
    r"(?:(?:un|una|el|la|algun|alguna|otro|otra|uno_de_sus|una_de_sus) )?"
    r"(?:persona|ser_humano|humano|humana|agente|operador|operadora|asesor|asesora|representante"
    r"|ejecutivo|ejecutiva|encargado|encargada|gerente|supervisor|supervisora|empleado|empleada"
    r"|alguien|atencion_al_cliente|servicio_al_cliente|soporte)"
    r"(?: (?:real|reales|humano|humana|de_verdad|de_carne_y_hueso|en_vivo))?\b"
    r"(?! (?:virtual|automatico|digital))"
)
# Who runs or serves at the business: only after a verb of speaking or contact ("hablar con el
# dueño"), never of moving ("pasar al jefe", "transferir al propietario" are often money).
_ES_ROLE = (
    r"(?:(?:un|una|el|la|al|algun|alguna) )?(?:dueno|duena|propietario|propietaria|jefe|jefa"
    r"|responsable|administrador|administradora|camarero|camarera|mesero|mesera|chef"
    r"|miembro_del_(?:personal|equipo)|alguien_del_(?:personal|equipo|restaurante|local))\b"
)
_ES_RULES = (
    _Rule(
        "talk-to-role",
        _compile(
            r"\b(?:hablar|hablo|hable|platicar|conversar|chatear|comunicar(?:me|nos)?|comunicame"
            r"|comuniqueme|contactar(?:me)?|ponerme_en_contacto|ponme_en_contacto)"
            rf" (?:(?:por_favor|porfa) )?(?:con|a) {_ES_ROLE}"
        ),
    ),
    _Rule(
        "talk-to-person",
        _compile(
            r"\b(?:hablar|hablo|hable|habla|platicar|conversar|chatear|comunicar(?:me|nos)?"
            r"|comunica(?:me)?|comuniqueme|contactar(?:me)?|conectar(?:me)?|conecta(?:me)?"
            r"|conecteme|pasar(?:me)?|pasa(?:me)?|paseme|transferir(?:me)?|transfiere(?:me)?"
            r"|transfierame|poner(?:me)?_en_contacto|ponme_en_contacto|contacto|comunicacion) "
            rf"(?:(?:por_favor|porfa|ya|ahora) )?(?:con|a) {_ES_WHO}"
        ),
    ),
    _Rule(
        "want-person",
        _compile(
            r"\b(?:quiero|quisiera|necesito|me_gustaria|deseo|prefiero|pido|exijo|dame|deme"
            r"|denme|pasame|paseme|ponme|pongame) (?:(?:hablar|comunicarme) con )?"
            r"(?:(?:un|una|el|la|a) )?"
            r"(?:persona(?: real| de_verdad)?|ser_humano|humano|agente|operador|operadora|asesor"
            r"|asesora|representante|ejecutivo|ejecutiva|encargado|encargada|gerente|supervisor"
            r"|dueno|duena|responsable|atencion_humana|persona_real)"
            r"(?: (?:real|humano|humana|de_verdad))?"
            rf"(?:{_END}| (?:por_favor|porfa|ya|ahora|que_me_(?:atienda|ayude)|para_hablar))"
        ),
    ),
    # Being attended by a person: "¿me puede atender una persona?", "que me atienda alguien".
    # Only the asking forms (infinitive, subjunctive), never "me atendió" (a story).
    _Rule(
        "attended-by-person",
        _compile(
            r"\b(?:(?:me|nos) (?:\w+ )?(?:atender|atienda|atiendan)|atenderme|atendernos"
            rf"|atiendame|atiendanme) {_ES_WHO}"
            r"|\b(?:alguien|una_persona|un_humano|un_agente|un_asesor|una_asesora) (?:me|nos)"
            r" (?:puede|podria|pueden|podrian) atender"
        ),
    ),
    # "¿hay alguien disponible?", "¿hay un agente con quien hablar?"
    _Rule(
        "person-available",
        _compile(
            r"\bhay (?:(?:algun|alguna|un|una) )?(?:alguien|persona|humano|agente|asesor|asesora"
            r"|operador|operadora|representante) (?:disponible|en_linea|con_quien_hablar)"
        ),
    ),
    _Rule(
        "person-only",
        _compile(
            r"^(?:(?:por_favor|porfa|hola) )*(?:un|una)? ?"
            r"(?:persona|humano|agente|operador|operadora|asesor|asesora|representante"
            r"|atencion_humana)(?: (?:real|humano|humana|de_verdad))?"
            r"(?: (?:\.|por_favor|porfavor|porfa|ya|ahora|gracias))*$"
        ),
        guarded=False,
    ),
)

# French. "personne" alone also means "nobody" ("je ne veux parler à personne"), so it needs an
# article; "quelqu'un" is typed with and without its apostrophe.
_FR_WHO = (
    r"(?:(?:un|une|le|la|l'|au|a_un|a_une|des|un_vrai|une_vraie|un_autre|une_autre) ?)"
    r"(?:etre_humain|humain|vraie_personne|personne(?: reelle| physique)?|agent|conseiller"
    r"|conseillere|operateur|operatrice|representant|representante|responsable|employe|employee"
    r"|interlocuteur|interlocutrice|superviseur|manager|service_client(?:s|ele)?|support)"
    r"(?: (?:humain|humaine|reel|reelle|en_chair_et_en_os))?\b"
    r"(?! (?:virtuel|virtuelle|automatique))"
    r"|quelqu ?'? ?un(?: de_reel| d'humain)?\b"
)
# Who runs or serves at the business: only after a verb of speaking or contact ("parler au
# gérant"), never "avoir" or "connecter" ("avoir un chef à domicile", "se connecter au serveur").
_FR_ROLE = (
    r"(?:(?:un|une|le|la|l'|au|a_un|a_une|a_la|a_l') ?)(?:gerant|gerante|patron|patronne|directeur"
    r"|directrice|proprietaire|chef|maitre_d'hotel|receptionniste|membre_du_personnel"
    r"|membre_de_(?:l'|votre_|ton_)equipe)\b"
)
_FR_RULES = (
    _Rule(
        "talk-to-role",
        _compile(
            r"\b(?:parler|parle|parlez|discuter|causer|echanger|joindre|contacter|contactez"
            r"|en_relation|en_contact|mettre_en_relation|mettez_moi_en_relation"
            rf"|mets_moi_en_relation) (?:(?:avec|a|aupres_d'?) ?)?{_FR_ROLE}"
            # A waiter, spoken to: "contacter le serveur" is too often a machine.
            r"|\b(?:parler|parle|parlez|discuter) (?:(?:avec|a) (?:le|la|un|une)|au) "
            r"(?:serveur|serveuse)\b"
        ),
    ),
    _Rule(
        "talk-to-person",
        _compile(
            r"\b(?:parler|parle|parlez|discuter|causer|echanger|joindre|contacter|contactez"
            r"|avoir|passez_moi|passe_moi|en_relation|en_contact|transferer|transferez(?: moi)?"
            r"|transfere(?: moi)?|rediriger|redirigez(?: moi)?|redirige(?: moi)?|connecter"
            r"|connectez(?: moi)?|mettre_en_relation|mettez_moi_en_relation|mets_moi_en_relation)"
            rf" (?:(?:avec|a|vers|aupres_d'?) ?)?{_FR_WHO}"
        ),
    ),
    _Rule(
        "want-person",
        _compile(
            r"\b(?:je_veux|je_voudrais|j'?aimerais|je_souhaite|il_me_faut|je_demande|j'?exige"
            r"|donnez_moi|donne_moi|j'?ai_besoin_d'?) ?"
            r"(?:un|une|le|la) ?(?:(?:vrai|vraie|veritable) )?(?:etre_humain|humain|vraie_personne"
            r"|personne(?: reelle)?|agent|conseiller|conseillere|operateur|operatrice|representant"
            r"|responsable|gerant|gerante|patron|patronne)"
            r"(?: (?:humain|reel|reelle))?"
            rf"(?:{_END}| (?:svp|s'?il_vous_plait|s'?il_te_plait|maintenant|tout_de_suite))"
        ),
    ),
    # "y a-t-il quelqu'un de disponible ?", "il y a un conseiller disponible ?"
    _Rule(
        "person-available",
        _compile(
            r"\by a (?:t )?(?:il )?(?:un |une )?(?:quelqu ?'? ?un|conseiller|conseillere|agent"
            r"|humain|operateur|operatrice) (?:de )?(?:disponible|en_ligne)"
        ),
    ),
    _Rule(
        "person-only",
        _compile(
            r"^(?:(?:svp|bonjour|s'?il_vous_plait) )*(?:un|une)? ?"
            r"(?:humain|etre_humain|vraie_personne|conseiller|conseillere|agent|operateur"
            r"|operatrice)(?: (?:humain|reel))?"
            r"(?: (?:\.|svp|s'?il_vous_plait|s'?il_te_plait|merci|maintenant))*$"
        ),
        guarded=False,
    ),
)

# German. The verb usually closes the clause ("ich möchte mit einem Mitarbeiter sprechen"), so
# the person comes first and the verb may follow a few words later; in commands it leads
# ("verbinden Sie mich mit einem Menschen").
_DE_WHO = (
    r"(?:(?:einem|einer|einen|ein|eine|dem|der|den|ihrem|ihrer|ihren|eurem|eurer) )?"
    r"(?:(?:echten|echter|echtem|realen|realer|lebenden|menschlichen|richtigen) )?"
    r"(?:mensch(?:en)?|person|mitarbeiter(?:in|innen|n)?|kundenberater(?:in)?|berater(?:in)?"
    r"|sachbearbeiter(?:in)?|ansprechpartner(?:in)?|agent(?:en|in)?|kundendienst"
    r"|kundenservice|kundensupport|support|operator|vorgesetzten|vorgesetzte[nr]?"
    r"|verantwortlichen|jemand(?:em|en)?"
    # Who runs or serves at the business.
    r"|chef(?:in)?|inhaber(?:in)?|besitzer(?:in)?|geschaftsfuhrer(?:in)?|geschaftsfuhrung"
    r"|geschaftsleitung|filialleiter(?:in)?|leiter(?:in)?|manager(?:in)?|kellner(?:in|n)?"
    r"|bedienung|personal|zustandigen)\b"
)
_DE_RULES = (
    _Rule(
        "talk-to-person",
        _compile(
            rf"\bmit {_DE_WHO}(?: \w+){{0,3}}? "
            r"(?:sprechen|reden|verbunden|verbinden|chatten|telefonieren|schreiben|kontakt)\b"
            r"|\b(?:sprechen|reden|verbinden|verbinde|verbindest|verbindet|chatten)"
            rf" (?:(?:sie|du|mich|uns|bitte) )*mit {_DE_WHO}"
        ),
    ),
    _Rule(
        "move-me-to-person",
        _compile(
            rf"\b(?:an|zu) {_DE_WHO} (?:weiterleiten|weiter|durchstellen|verbinden|ubergeben)\b"
            rf"|\b(?:weiterleitung|weiterleiten|durchstellen) (?:an|zu) {_DE_WHO}"
        ),
    ),
    _Rule(
        "want-person",
        _compile(
            r"\b(?:will|mochte|moechte|brauche|hatte_gern|hatte_gerne|wunsche|verlange|will_bitte"
            r"|mochte_bitte) (?:(?:einen|eine|den|die) )?"
            r"(?:(?:echten|echte|richtigen|realen) )?"
            r"(?:menschen|mensch|mitarbeiter|mitarbeiterin|berater|beraterin|kundenberater"
            r"|ansprechpartner|sachbearbeiter|vorgesetzten|agenten|person|jemanden|chef|chefin"
            r"|inhaber|inhaberin|geschaftsfuhrer|geschaftsfuhrerin|filialleiter|leiter|manager)"
            # "ich möchte einen Mitarbeiter sprechen", "ich hätte gern den Chef gesprochen":
            # sprechen with a direct object.
            rf"(?:{_END}| (?:bitte|sofort|jetzt|sprechen|gesprochen))"
            # The wish in the past conditional: "ich hätte gern mit dem Chef gesprochen".
            rf"|\b(?:hatte|wurde) (?:\w+ )?gerne? (?:\w+ )?mit {_DE_WHO} gesprochen\b"
        ),
    ),
    # "Ist ein Mitarbeiter verfügbar?", "gibt es einen Menschen, mit dem ich sprechen kann?"
    _Rule(
        "person-available",
        _compile(
            rf"\b(?:ist|gibt_es) {_DE_WHO} (?:\. )?(?:verfugbar|erreichbar|online|da\b"
            r"|mit_dem_ich|mit_der_ich)"
        ),
    ),
    _Rule(
        "person-only",
        _compile(
            r"^(?:(?:bitte|hallo) )*(?:ein|einen|eine)? ?(?:(?:echten|echter|echte) )?"
            r"(?:mensch|menschen|mitarbeiter|mitarbeiterin|berater|kundenberater|agent"
            r"|ansprechpartner)(?: (?:\.|bitte|sofort|jetzt|danke))*$"
        ),
        guarded=False,
    ),
)

# Portuguese. "atendente" is the everyday word for a support person in Brazil.
_PT_WHO = (
    r"(?:(?:um|uma|o|a|algum|alguma|outro|outra) )?"
    r"(?:atendente|ser_humano|humano|humana|pessoa|agente|operador|operadora|alguem"
    r"|representante|gerente|supervisor|supervisora|consultor|consultora|funcionario"
    r"|funcionaria|atendimento_humano|suporte|sac)"
    r"(?: (?:real|reais|humano|humana|de_verdade|de_carne_e_osso))?\b"
    r"(?! (?:virtual|eletronico|eletronica|automatico|automatica|digital))"
)
# Who runs or serves at the business: only after a verb of speaking or contact ("falar com o
# dono"), never of moving ("transferir para o dono" is often money).
_PT_ROLE = (
    r"(?:(?:um|uma|o|a|ao|algum|alguma) )?(?:dono|dona|proprietario|proprietaria|responsavel"
    r"|garcom|garconete|chef|chefe|membro_da_equipe|alguem_da_equipe)\b"
)
_PT_RULES = (
    _Rule(
        "talk-to-role",
        _compile(
            r"\b(?:falar|fala|fale|falo|conversar|converse|chatear|comunicar|contatar|contactar"
            rf"|contato) (?:(?:com|para|pra|a|ao) )?{_PT_ROLE}"
        ),
    ),
    _Rule(
        "talk-to-person",
        _compile(
            r"\b(?:falar|fala|fale|falo|conversar|converse|conversa|conversando|falando"
            r"|chatear|comunicar|contatar|contactar|contato|me_transfer\w*|transfer\w*_me"
            r"|transferir|transfere|transfira|me_passa|me_passe|passa_me|passe_me|me_coloca"
            r"|me_coloque|encaminh\w*|me_conecta|me_conecte|conectar) "
            rf"(?:(?:com|para|pra|a|ao|a_um|a_uma) )?{_PT_WHO}"
        ),
    ),
    _Rule(
        "want-person",
        _compile(
            r"\b(?:quero|queria|gostaria_de|preciso_de|preciso|desejo|me_de|me_da|exijo)"
            r" (?:(?:um|uma|o|a|falar_com_um|falar_com_uma) )?"
            r"(?:atendente|ser_humano|humano|pessoa|agente|operador|operadora|atendimento_humano"
            r"|gerente|supervisor|dono|responsavel)(?: (?:real|humano|humana|de_verdade))?"
            rf"(?:{_END}| (?:por_favor|agora|ja|urgente))"
        ),
    ),
    # "tem algum atendente disponível?", "há alguém online?"
    _Rule(
        "person-available",
        _compile(
            r"\b(?:tem|ha|existe) (?:(?:algum|alguma|um|uma) )?(?:alguem|atendente|pessoa"
            r"|humano|agente|operador|operadora) (?:disponivel|online|para_(?:falar|conversar))"
        ),
    ),
    _Rule(
        "person-only",
        _compile(
            r"^(?:(?:por_favor|ola|oi) )*(?:um|uma)? ?"
            r"(?:atendente|humano|pessoa|agente|operador|atendimento_humano)"
            r"(?: (?:real|humano|de_verdade))?(?: (?:\.|por_favor|pf|pfv|agora|ja|obrigado"
            r"|obrigada))*$"
        ),
        guarded=False,
    ),
)

# Italian. Articles elide before a vowel ("un'operatrice", "l'operatore").
_IT_WHO = (
    r"(?:(?:un|una|uno|il|la|lo|un'|l'|un_altro|un'altra|uno_dei_vostri) ?)?"
    r"(?:operatore|operatrice|essere_umano|umano|persona|agente|assistente|consulente|qualcuno"
    r"|addetto|addetta|responsabile|rappresentante|impiegato|impiegata|supervisore"
    r"|servizio_clienti|assistenza_clienti)"
    r"(?: (?:umano|umana|reale|vera|vero|in_carne_e_ossa|in_carne_ed_ossa))?\b"
    r"(?! (?:virtuale|digitale|automatico))"
)
# Who runs or serves at the business: only after a verb of speaking or contact ("parlare con il
# titolare"), never of moving. "gestore" alone is also the phone company.
_IT_ROLE = (
    r"(?:(?:un|una|uno|il|la|lo|l'|al|alla|allo) ?)?(?:titolare|gestore|proprietario|proprietaria"
    r"|direttore|direttrice|cameriere|cameriera|chef|manager|capo|membro_dello_staff"
    r"|qualcuno_dello_staff)\b(?! (?:telefonico|della_linea|di_rete|luce|gas))"
)
_IT_RULES = (
    _Rule(
        "talk-to-role",
        _compile(
            r"\b(?:parlare|parlo|parlarne|chattare|comunicare|contattare|mettimi_in_contatto"
            rf"|mi_metta_in_contatto|mettermi_in_contatto) (?:(?:con|a|ad|al|alla|allo|coi) )?"
            rf"{_IT_ROLE}"
        ),
    ),
    _Rule(
        "talk-to-person",
        _compile(
            r"\b(?:parlare|parlo|parli|parla|parlarne|chattare|comunicare|contattare|contatto"
            r"|passami|passarmi|mi_passi|mi_passa|mi_passate|passatemi|mettimi_in_contatto"
            r"|mi_metta_in_contatto|mettermi_in_contatto|trasferiscimi|mi_trasferisca"
            r"|mi_trasferisci|trasferire|collegami|mi_colleghi|mi_colleghi) "
            rf"(?:(?:con|a|ad|al|alla|coi) )?{_IT_WHO}"
        ),
    ),
    _Rule(
        "want-person",
        _compile(
            r"\b(?:voglio|vorrei|desidero|ho_bisogno_di|mi_serve|chiedo|pretendo)"
            r" (?:(?:un|una|uno|un'|l'|il) ?)?"
            r"(?:operatore|operatrice|essere_umano|umano|persona_reale|persona_vera|agente"
            r"|consulente|responsabile|supervisore|titolare|gestore|direttore)"
            r"(?: (?:umano|umana|reale|vero|vera))?"
            rf"(?:{_END}| (?:per_favore|per_piacere|subito|adesso|ora))"
        ),
    ),
    # "c'è un operatore disponibile?", "c'è qualcuno con cui parlare?"
    _Rule(
        "person-available",
        _compile(
            r"\bc ?'? ?e (?:(?:un|una|un') ?)?(?:qualcuno|operatore|operatrice|persona|umano"
            r"|consulente|agente) (?:disponibile|online|con_cui_(?:parlare|posso_parlare))"
        ),
    ),
    _Rule(
        "person-only",
        _compile(
            r"^(?:(?:per_favore|ciao|salve) )*(?:un|una|un')? ?"
            r"(?:operatore|operatrice|umano|essere_umano|agente|consulente)"
            r"(?: (?:umano|reale|vero))?(?: (?:\.|per_favore|per_piacere|grazie|subito|ora))*$"
        ),
        guarded=False,
    ),
)

# Dutch, Swedish and Hindi written in Latin letters: the plain forms of asking, folded as
# messages are ("människa" is "manniska"). The multilingual examples (bots.handoff.semantic)
# carry the rest; these keep the common asks exact where the embedder is weakest (it was
# not trained on Swedish or Hindi).
_NL_WHO = (
    r"(?:(?:een|de|het|uw|jullie|iemand_van_de|iemand_van) )?(?:echte |echt_)?"
    r"(?:mens|medewerker|medewerkster|persoon|iemand|klantenservice|helpdesk|servicedesk"
    r"|mensen|collega|vertegenwoordiger)\b"
)
_NL_RULES = (
    _Rule(
        "talk-to-person",
        _compile(
            rf"\b(?:praten|spreken|chatten|contact|bellen|doorverbonden) met {_NL_WHO}"
            # The verb closes the clause: "kan ik met een medewerker praten?"
            rf"|\bmet {_NL_WHO} (?:\w+ )?(?:praten|spreken|chatten|bellen)\b"
            rf"|\b{_NL_WHO} (?:\w+ )?(?:spreken|aan_de_lijn)\b"
            rf"|\b(?:verbind|zet|stuur) (?:me|mij) (?:\w+ )?(?:door )?(?:met|naar) {_NL_WHO}"
            r"|\bdoorverbinden\b"
        ),
    ),
)
_SV_WHO = (
    r"(?:(?:en|ett|nagon|er) )?(?:riktig |verklig )?"
    r"(?:manniska|person|anstalld|handlaggare|kundtjanst|kundservice|personal(?:en)?|support"
    r"|nagon(?: pa_(?:kundtjanst|er|support))?|medarbetare)\b"
)
_SV_RULES = (
    _Rule(
        "talk-to-person",
        _compile(
            rf"\b(?:prata|tala|snacka|chatta) med {_SV_WHO}"
            rf"|\bkoppla (?:mig|mej) (?:vidare )?(?:till|med) {_SV_WHO}"
        ),
    ),
)
_HI_WHO = (
    r"(?:kisi |koi )?(?:real |asli |sachche )?(?:insaan|insan|human|person|agent|executive"
    r"|staff(?: member)?|support(?: staff| team| wale| wala)?|customer_care(?: wale| wala)?"
    r"|customer_support(?: wale| wala)?|aadmi|banda)\b"
)
_HI_RULES = (
    _Rule(
        "talk-to-person",
        _compile(
            rf"\b{_HI_WHO} (?:se|ko|say) (?:baat|connect|contact|transfer)"
            r"(?: \w+){0,2}? (?:karo|karao|karwao|karwa|karna|karni|karwado|kar|kara|krwa|krdo)\b"
        ),
    ),
)

_RULES: tuple[tuple[str, tuple[_Rule, ...]], ...] = (
    ("en", _EN_RULES),
    ("es", _ES_RULES),
    ("fr", _FR_RULES),
    ("de", _DE_RULES),
    ("pt", _PT_RULES),
    ("it", _IT_RULES),
    ("nl", _NL_RULES),
    ("sv", _SV_RULES),
    ("hi", _HI_RULES),
)

# Words of a short reply to the offer, by what they say. Phrases are written with "_" for a space
# and in normalised form (accents folded, hyphens as spaces: "allez-y" is "allez_y").
_YES, _NO, _ACK, _PLEASE, _THANKS, _FILLER = "yes", "no", "ack", "please", "thanks", "filler"
_REPLY_KINDS = {
    # A yes, or a go-ahead: enough alone.
    _YES: "yes yeah yea yeh yep yup yah sure sure_thing for_sure absolutely definitely of_course "
    "certainly indeed affirmative please_do do_it do_that go_ahead go_for_it sounds_good "
    "sounds_great that_would_be_great that'd_be_great thatd_be_great that_would_help "
    "that_would_be_helpful that_would_be_nice i_do i_would i'd_like_that id_like_that "
    "i_would_like_that i'd_love_that i_would_love_that "
    "si claro claro_que_si por_supuesto desde_luego dale adelante hazlo hagalo quiero "
    "oui ouais ouai volontiers bien_sur avec_plaisir allez_y vas_y je_veux_bien carrement "
    "tout_a_fait absolument "
    "ja jawohl gerne gern klar na_klar sicher genau auf_jeden_fall unbedingt mach_das "
    "machen_sie_das nur_zu "
    "sim com_certeza pode pode_ser pode_sim faca_isso vai_em_frente "
    "certo certamente volentieri esatto sicuro sicuramente certo_che_si assolutamente fallo "
    "procedi vai vai_pure fai_pure senz'altro senzaltro",
    # Acknowledgements: a yes only with a yes or a "please" after them ("ok thanks" closes).
    _ACK: "ok okay okey okie alright all_right fine "
    "vale venga bueno de_acuerdo sale "
    "d'accord daccord d'acc entendu "
    "alles_klar in_ordnung passt na_gut "
    "beleza ta ta_bom tudo_bem combinado "
    "va_bene d'accordo daccordo",
    _PLEASE: "please pls plz pleas por_favor porfa porfavor s'il_vous_plait s'il_te_plait svp "
    "stp bitte bitte_schon per_favore per_piacere pf pfv",
    # Thanks goes with a yes ("yes thanks", "oui merci") but is never one alone.
    _THANKS: "thanks thank_you thank_you_very_much thanks_a_lot thx ty cheers gracias "
    "muchas_gracias merci merci_beaucoup danke danke_schon danke_sehr vielen_dank obrigado "
    "obrigada muito_obrigado muito_obrigada grazie grazie_mille mille_grazie bedankt dank_je "
    "dank_u dank_je_wel tack tack_sa_mycket dziekuje tesekkurler tesekkur_ederim sag_ol "
    "shukriya dhanyavad спасибо شكرا ありがとう ありがとうございます 谢谢 謝謝 감사합니다 고마워요",
    # A no to the offer. Phrases in scripts without spaces (Japanese, Chinese) need none after.
    _NO: "no nope nah nop naw not_now not_yet no_need not_needed not_necessary not_really "
    "i'm_good im_good i_am_good i'm_fine im_fine i'm_ok im_ok i'm_okay i'm_all_set all_set "
    "all_good it's_ok its_ok it's_okay it's_fine its_fine that's_ok thats_ok that's_fine "
    "thats_fine never_mind nevermind nvm no_way i'll_pass ill_pass i'm_alright "
    "no_hace_falta no_es_necesario estoy_bien asi_esta_bien todo_bien ahora_no mejor_no "
    "para_nada "
    "non pas_besoin pas_la_peine ce_n'est_pas_la_peine c'est_pas_la_peine ca_va ca_ira c'est_bon "
    "ca_va_aller pas_maintenant laisse_tomber inutile non_plus "
    "nein nee ne nicht_notig nicht_noetig nicht_notwendig passt_schon schon_gut lieber_nicht "
    "jetzt_nicht kein_bedarf brauche_ich_nicht "
    "nao nao_precisa nao_e_necessario tudo_certo agora_nao deixa_pra_la estou_bem "
    "non_serve non_c'e_bisogno non_ce_bisogno non_ora lascia_stare sto_bene va_bene_cosi "
    "neen nee_hoor hoeft_niet niet_nodig laat_maar nu_niet liever_niet het_is_goed "
    "nej behovs_inte nie nie_trzeba hayir hayır gerek_yok yok нет не_надо не_нужно nahi nahin "
    "nahi_chahiye rehne_do لا "
    "いいえ いや 結構です けっこうです 結構 大丈夫です 大丈夫 いりません いらないです "
    "不用 不用了 不需要 不要 不了 算了 没事 没关系 不必了 "
    "아니요 아니오 아니 괜찮아요 괜찮습니다 됐어요 필요없어요",
    _FILLER: "oh ah um uh hmm well",
}
# Folded as messages are (`_fold`: "です" loses its voiced mark as "é" loses its accent).
_REPLY_WORDS = {
    _fold(phrase.replace("_", " ")): kind
    for kind, phrases in _REPLY_KINDS.items()
    for phrase in phrases.split()
}
# Longest first, so "please do" is not read as "please" followed by something else. A phrase
# ends at a space or the end, except after a CJK character: "不用了谢谢" has no spaces.
_REPLY_HEAD = re.compile(
    "^("
    + "|".join(re.escape(p) for p in sorted(_REPLY_WORDS, key=len, reverse=True))
    + ")(?: |$|(?<=[\u3040-\u30ff\u4e00-\u9fff\u1100-\u11ff\uac00-\ud7af]))"
)

# Words the rule tables spell out are never "repaired" into a neighbouring key word: the French
# "humain" and the Spanish "operador" are not typos for "human" and "operator".
_PROTECTED = (
    frozenset(
        word
        for _, rules in _RULES
        for rule in rules
        for word in re.findall(r"[a-z]{4,}", rule.pattern.pattern)
    )
    - _KEY_WORDS
)
