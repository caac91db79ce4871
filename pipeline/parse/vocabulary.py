"""The report template's vocabulary: the words, phrases, marks and heading shapes it prints.

What belongs here: every fixed string of the template (``docs/report-format.md``) and
the patterns that recognise it, including the variants other exports write (layout
drift: other heading forms, the status in words, page furniture). The section modules
of :mod:`pipeline.parse` read them from here and :mod:`pipeline.synth` writes its
reports with them, so that the generator and the parser cannot disagree on a word.
No parsing logic: strings, tuples and compiled patterns only.
"""

from __future__ import annotations

import re

# --- the status checklist -------------------------------------------------------------

#: The four checklist lines as the template prints them, by status.
STATUS_LINES = {
    "not_started": "Non entamée",
    "limited": "Progression limitée (1-59%)",
    "substantial": "Progression significative (60-90%)",
    "complete": "Complétée (90-100%)",
}
STATUSES = tuple(STATUS_LINES)
#: The status phrases without their band, as a one-line status writes them (« Statut : Complétée »).
STATUS_PHRASES = {
    "not_started": "Non entamée",
    "limited": "Progression limitée",
    "substantial": "Progression significative",
    "complete": "Complétée",
}
#: Each status's band as the checklist prints it.
STATUS_BAND_TEXTS = {"not_started": "0%", "limited": "1-59%", "substantial": "60-90%", "complete": "90-100%"}
#: The checklist lines folded (see :func:`pipeline.text.fold`): what a damaged line is compared with.
FOLDED_STATUS_LINES = {
    "not_started": "non entamee",
    "limited": "progression limitee (1-59%)",
    "substantial": "progression significative (60-90%)",
    "complete": "completee (90-100%)",
}
#: A word stem each status line keeps through most OCR damage, and its status.
STATUS_KEYWORDS = (("entam", "not_started"), ("limit", "limited"), ("signific", "substantial"), ("complet", "complete"))
#: The bands' figures, which say the status when its words are garbled.
STATUS_BAND_PATTERNS = (
    (re.compile(r"\b90\D{0,3}100"), "complete"),
    (re.compile(r"\b60\D{0,3}90\b"), "substantial"),
    (re.compile(r"\b1\D{0,3}59\b"), "limited"),
)
#: What is left of a band after OCR (« (00 100% »): the line was a status line, unreadable.
GARBLED_STATUS_RE = re.compile(r"\(\s*\d[\d\s]*(?:[-–]\s*\d+)?\s*[%°9]?")

#: Check marks the template's exports put in front of the checked status line.
CHECK_MARKS = ("✓", "✔", "√", "☑", "✅", "[x]")
CHECK_MARK_RE = re.compile(r"[✓✔√☑✅]|\[\s*[xX]\s*\]")
#: Empty box printed on unchecked lines by the exports whose check mark is a box.
EMPTY_BOXES = {"[x]": "[ ]", "☑": "☐"}
UNCHECKED_BOX_RE = re.compile(r"\[\s*\]|[☐□]")
#: List markers in front of the checklist lines (none in some exports).
BULLETS = ("- ", "• ", "")
#: List markers in front of an indicator.
INDICATOR_BULLETS = ("- ", "• ")

# --- the status given in words on one line (layout drift) -------------------------------

#: Labels a one-line status starts with, as other exports write them.
STATUS_WORD_LABELS = ("Statut", "Statut de l'activité", "État d'avancement", "Etat d'avancement", "Niveau d'avancement")
#: « Statut : Progression limitée », « État d'avancement – 60-90% »: the label, a separator, the status.
STATUS_IN_WORDS = (
    r"(?:[-•]\s*)?(?i:statut(?:\s+de\s+l.activit[ée])?|[ée]tat\s+d.avancement|niveau\s+d.avancement)"
    r"\s*[:\-–—]\s*(?P<phrase>\S.*)$"
)
STATUS_IN_WORDS_RE = re.compile(r"^\s*" + STATUS_IN_WORDS)

# --- the commitment's two-column table ---------------------------------------------------

#: Each field's label as the template prints it.
FIELD_NAMES_FR = {
    "responsible_body": "Organisme responsable de la mise en œuvre",
    "problem": "Problématique",
    "solution": "Solution proposée",
    "expected_result": "Résultat attendu",
}
#: The labels folded, with the short form a label split over two lines leaves on its first line.
FIELD_LABELS = {
    "responsible_body": ["organisme responsable de la mise en oeuvre", "organisme responsable"],
    "problem": ["problematique"],
    "solution": ["solution proposee"],
    "expected_result": ["resultat attendu"],
}
#: The second line of a label split over two lines, folded.
FIELD_LABEL_TAIL = "de la mise en oeuvre"
#: The label of an activity's narrative, as printed and folded.
ACTIONS_LABEL = "Actions réalisées"
ACTIONS_LABELS = ["actions realisees"]
ACTIONS_INLINE_RE = re.compile(r"\bActions r[ée]alis[ée]es\b")

# --- headings -------------------------------------------------------------------------------

COMMITMENT_WORD = "ENGAGEMENT"
ACTIVITY_WORD = "Activité"
INDICATORS_HEADING = "Indicateurs relatifs à l'engagement"
#: Numero signs other exports put before a heading's number (« ENGAGEMENT N°3 »).
NUMERO_SIGNS = ("N°", "Nº", "n°", "No", "№")
#: Dashes other exports put after a heading's number instead of a colon (« Engagement 3 - »).
HEADING_DASHES = ("-", "–", "—", "‐", "‑", "−")

#: A numero sign before a heading's number, its trailing spaces inside it (no two « \s* »
#: share a run of spaces: quadratic on a long line).
_NUMERO = r"(?:(?i:n\s*[°º˚o])\.?\s*|№\s*|#\s*)?"
#: What separates a heading's number from its title: the template's colon, a period, or a
#: dash followed by a space (« Activités 1-3 » is no heading).
_SEPARATOR = r"(?:[:.]|[" + "".join(HEADING_DASHES).replace("-", r"\-") + r"](?!\S))"
#: « ENGAGEMENT 3 : TITLE » and the forms other exports write (« Engagement N°3 - Title »), after
#: the line's leading spaces. The title is « (?:.*\S)? » rather than a lazy « .*? » before
#: « \s*$ », which is quadratic in a run of spaces or tabs (seconds for a line of 20,000 tabs).
COMMITMENT_HEADING = r"(?:[EÉ]|[Ee])?(?i:ngagement)\s*" + _NUMERO + r"(\d{1,3})\s*" + _SEPARATOR + r"\s*((?:.*\S)?)\s*$"
COMMITMENT_HEADING_RE = re.compile(r"^\s*" + COMMITMENT_HEADING)
#: « Activité K : title », also when decoding replaced its « é », a lone Windows-1252 byte, by U+FFFD.
ACTIVITY_HEADING = (
    r"(?:[-•]\s*)?(?i:activit[ée\ufffd]s?)\s*" + _NUMERO + r"(\d{1,3})\s*" + _SEPARATOR + r"\s*((?:.*\S)?)\s*$"
)
ACTIVITY_HEADING_RE = re.compile(r"^\s*" + ACTIVITY_HEADING)
#: « Indicateurs relatifs à l'engagement » as printed, after the line's leading spaces.
INDICATORS_HEADING_RAW = r"(?:[-•]\s*)?(?i:indicateurs?\s+relatifs?\s+(?:[aàâ]|au)\s+l.?\s*engagement)"
#: « Indicateurs relatifs à l'engagement N : », matched on the folded line.
INDICATORS_HEADING_RE = re.compile(
    r"^\s*(?:[-•]\s*)?indicateurs?\s+relatifs?\s+(?:a|au)\s+l.?\s*engagement\s*(?:(?:n\s*[°ºo]\.?|#)\s*)?(\d{1,3})?\s*:?"
)
#: The template's own heading forms: any other form read is reported (heading_form_variant).
TEMPLATE_COMMITMENT_RE = re.compile(r"^\s*ENGAGEMENT \d{1,3} ?:")
TEMPLATE_ACTIVITY_RE = re.compile(r"^\s*(?:[-•]\s*)?Activit[ée\ufffd] \d{1,3} ?:")

# --- page furniture (layout drift) ---------------------------------------------------------

#: A page number alone on its line: « 12 », « - 12 - », « 12 / 40 », « Page 12 », « Page 12 sur 40 ».
PAGE_NUMBER_RE = re.compile(
    r"^[ ]*(?:(?P<worded>(?i:page|p\.)[ ]*\d{1,4}(?:[ ]*(?:/|sur|of)[ ]*\d{1,4})?)"
    r"|[-–—]?[ ]*\d{1,4}[ ]*(?:/[ ]*\d{1,4}[ ]*)?[-–—]?)[ ]*$"
)
#: The page break character of PDF-to-text tools.
FORM_FEED = "\f"

# --- the front matter ----------------------------------------------------------------------------

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
#: Folded month names and their numbers.
FOLDED_MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}  # fmt: skip
