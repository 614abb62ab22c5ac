"""Words as a German technician types them: folded, prefix-matched, compounds split.

One place decides what a "word" is, for the ticket word index and for the knowledge search, so
``ticket search`` and ``kb search`` find the same things:

- folding: case, ä=ae, ö=oe, ü=ue, ß=ss, other accents dropped (``mueller`` finds "Müller",
  ``Müller`` finds "Mueller");
- a query word of two or more characters matches every word it begins (``Druck`` finds
  "Drucker", "druckt"); a single character (the ``2`` of ``Kassette 2``) only matches itself;
- a long compound is indexed with its known parts too (``Patrone`` finds "Druckerpatrone",
  ``fehler`` finds "Anmeldefehler"): cheap, because only parts from a short list of the nouns
  of IT support are looked for, never every substring.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# a word: two to forty letters or digits, or a single digit ("Fach 2", "tray 2")
WORD_RE = re.compile(r"\w{2,40}|\d")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

_MIN_PART, _MIN_COMPOUND = 3, 7


def fold(text: str) -> str:
    """Lower case, umlauts spelt out, other accents dropped: the form every word is kept in."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


# the tails and middles of compounds worth finding on their own (folded); a head needs no
# entry: a prefix search finds "Druckerpatrone" from "Drucker" anyway
PARTS = frozenset(fold(part) for part in """
abbruch adapter adresse akku anmeldung anschluss anzeige app ausfall bildschirm blatt
browser dienst dose drucker druck einzug eintrag fach fehler fenster filter funk gerät
geraet kabel kachel karte kassette konto laufwerk leitung lizenz lüfter luefter maus
meldung modul monitor name netz netzteil netzwerk ordner papier passwort patrone platte
port postfach profil programm puffer rechner router schacht schalter schnittstelle schloss
server signal speicher sperre spooler stau strom tastatur taste toner treiber trommel
update verbindung verteiler warteschlange wlan zertifikat zugang zugriff
""".split())

def tokens(text: str) -> list[str]:
    """The folded words of a text, in order (repeats kept: a ranking counts them)."""
    return WORD_RE.findall(fold(text))


def words(text: str) -> set[str]:
    """The folded words of a text."""
    return set(WORD_RE.findall(fold(text)))


@lru_cache(maxsize=65536)
def parts(word: str) -> tuple[str, ...]:
    """Known parts inside a compound, other than its head ("druckerpatrone" -> "patrone")."""
    if len(word) < _MIN_COMPOUND or word.isdigit():
        return ()
    found = []
    for start in range(_MIN_PART, len(word) - _MIN_PART + 1):
        for end in range(start + _MIN_PART, len(word) + 1):
            if word[start:end] in PARTS:
                found.append(word[start:end])
    return tuple(dict.fromkeys(found))


def index_words(text: str) -> set[str]:
    """What a word index keeps of a text: its words and the known parts of its compounds."""
    found = words(text)
    for word in list(found):
        found.update(parts(word))
    return found


def query_words(text: str | list[str]) -> list[str]:
    """The words a search needs, folded, each once, in the order given. Several arguments
    (``ticket search Kassette 2``) are simply more words."""
    joined = " ".join(text) if isinstance(text, list) else text
    return list(dict.fromkeys(tokens(joined)))


def matches(query: str, word: str) -> bool:
    """Whether a folded query word finds a folded indexed word."""
    return word == query if len(query) < 2 else word.startswith(query)


def finds(query: str, word: str) -> bool:
    """Whether a folded query word finds a folded word of a text, or one of its parts."""
    return matches(query, word) or any(matches(query, part) for part in parts(word))


def first_hit(text: str, wanted: list[str]) -> tuple[int, str] | None:
    """Where in ``text`` (as written, not folded) the first word any of ``wanted`` finds
    starts, and that word: what a snippet is cut around."""
    for found in re.finditer(r"\w+", text):
        word = fold(found.group())
        if any(finds(query, word) for query in wanted):
            return found.start(), found.group()
    return None
