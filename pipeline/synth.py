"""Synthetic self-assessment reports in the seed's template, each with its ground truth.

What belongs here: the French word lists, the layout of a report (title, table of
contents, context, axes, published rates, one section per commitment with its
two-column table, activities, status checklists and indicators), the damage a PDF
export does to it and the layout drift other exports show. The template's own words
(status lines, check marks, labels, heading words) come from
:mod:`pipeline.parse.vocabulary`, the parser's, never copied here. Every report ``<report_id>.txt`` comes with
``<report_id>.truth.json``: what a correct ingestion must read from it, and every
damage put in. Used to test :mod:`pipeline.ingest` on many reports whose right answer
is known. No external data; the same seed gives the same bytes.

Command line::

    python -m pipeline.synth --reports 20 --seed 1 --out /tmp/synth --damage-rate 0.1

The truth file holds ``report_id``, ``plan_period``, ``as_of``, ``global_rate_pct``,
``encoding`` (``utf-8`` or ``utf-8-sig``), ``line_ending`` (``lf`` or ``crlf``),
``line_count``, ``layout`` (which optional parts are present, the check mark, the
bullet), ``axes`` (``axis_no``, ``name``), ``damage`` (``kind``, ``commitment_no``,
``activity_no`` or null, ``detail``) and ``commitments``: ``commitment_no``, ``title``
(as the heading prints it, wrapped parts joined by one space, markup removed),
``axis_no``, ``responsible_body``, ``published_rate_pct``, ``heading_line``,
``activities`` (``activity_no``, ``title``, ``status`` as ingestion must read it,
``heading_line`` of the last copy of a duplicated heading) and ``indicators``
(``indicator_no``, ``label``, ``raw_value``, ``value``, ``unit``, ``kind``, ``line``).
Line numbers are 1-based, as an editor shows them.

Page breaks never split a wrapped commitment or activity title: the title's two lines
stay one blank line apart, so that the truth's joined title is the only reading.

Layout drift (:data:`DRIFT_KINDS`, none by default, ``--drift`` on the command line) lays
the same content out as other exports of the template do: headings written otherwise
(``ENGAGEMENT N°3 :``, ``Engagement 3 -``, ``Activité 2.``), the status in words on one
line (``Statut : Progression limitée``), page furniture (running headers and footers,
page numbers, form feeds) between any two lines, words hyphenated where a line wraps, a
narrative interleaved by the PDF-to-text tool. It is drawn from a random stream of its
own, so that a report without drift is byte for byte what it was before drift existed.
With drift the truth also holds ``layout.drift`` (the kinds) and ``drift`` (``kind``,
``commitment_no``, ``activity_no``, ``detail``; for an interleaved narrative ``text``, the
paragraph, and ``fragments``, as printed); its line numbers count the furniture's lines.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline.io import write_bytes_atomic
from pipeline.parse.vocabulary import (
    ACTIONS_LABEL,
    ACTIVITY_WORD,
    BULLETS,
    CHECK_MARKS,
    COMMITMENT_WORD,
    EMPTY_BOXES,
    FIELD_NAMES_FR,
    HEADING_DASHES,
    INDICATORS_HEADING,
    MONTHS,
    NUMERO_SIGNS,
    STATUS_BAND_PATTERNS,
    STATUS_BAND_TEXTS,
    STATUS_KEYWORDS,
    STATUS_LINES,
    STATUS_PHRASES,
    STATUS_WORD_LABELS,
    STATUSES,
)

log = logging.getLogger("pipeline.synth")

# --- the template's fixed strings: the parser's vocabulary (pipeline.parse.vocabulary) ---------

#: Damage kinds, each applied with probability ``damage_rate`` to every unit it can hit.
ACTIVITY_DAMAGE = (
    "check_mark_lost",
    "two_check_marks",
    "status_line_garbled",
    "status_lines_out_of_order",
    "activity_heading_duplicated",
    "page_break",
    "stray_markup",
)
COMMITMENT_DAMAGE = ("responsible_body_missing", "published_rate_missing", "page_break", "stray_markup")
#: Kinds that decide the checklist's fate; at most one of them hits an activity.
STATUS_DAMAGE = ("check_mark_lost", "two_check_marks", "status_line_garbled")

#: The responsible body's label split over two lines, as some exports print it.
_BODY_LABEL_HEAD, _BODY_LABEL_TAIL = (
    "Organisme responsable",
    FIELD_NAMES_FR["responsible_body"].removeprefix("Organisme responsable "),
)
PERIODS = [(2016, 2018), (2018, 2020), (2019, 2021), (2021, 2023), (2023, 2025), (2025, 2027)]
_PERIOD_IN_ID_RE = re.compile(r"pan-(\d{4})-(\d{4})")

# --- word lists ---------------------------------------------------------------------------

_C_ACTIONS = [
    "Renforcement", "Promotion", "Mise en place", "Amélioration", "Développement", "Publication",
    "Lancement", "Consolidation", "Généralisation", "Modernisation", "Digitalisation",
    "Institutionnalisation", "Simplification", "Accompagnement", "Structuration",
]  # fmt: skip
_C_OBJECTS = [
    "la transparence budgétaire", "l'accès à l'information", "la participation citoyenne",
    "la gouvernance médicale", "la charte des services publics", "un portail national de l'intégrité",
    "un système d'information intégré", "la publication des données ouvertes",
    "la transformation digitale de la justice", "l'égalité entre les femmes et les hommes",
    "la qualité des services publics", "la consultation publique", "la redevabilité des élus",
    "la commande publique", "la lutte contre la corruption", "la protection de l'enfance",
    "l'inclusion des personnes en situation de handicap", "la gestion des réclamations",
    "les procédures administratives", "les aides publiques aux associations",
    "la politique environnementale", "le budget citoyen", "les statistiques de l'éducation nationale",
    "la jurisprudence", "le volontariat", "les marchés publics", "la gestion des services de santé",
    "l'information foncière", "la gouvernance locale", "un observatoire national du service public",
    "la formation à distance des associations", "la pétition citoyenne", "les archives publiques",
]  # fmt: skip
_C_QUALIFIERS = [
    "", "", "", "au niveau des collectivités territoriales", "dans le secteur de la santé",
    "au profit des associations", "en faveur des jeunes", "dans les procédures judiciaires",
    "au niveau des départements ministériels et des établissements publics",
    "à travers des plateformes numériques", "auprès des citoyens", "au niveau régional",
    "dans la gestion des affaires publiques", "en partenariat avec la société civile",
    "et leur diffusion en format ouvert", "pour améliorer sa participation à la vie publique",
]  # fmt: skip
_A_ACTIONS = [
    "Elaboration", "Organisation", "Lancement", "Développement", "Préparation", "Mise en ligne",
    "Adoption", "Publication", "Réalisation", "Conception", "Intégration", "Animation", "Évaluation",
    "Révision", "Diffusion", "Actualisation", "Mise en place", "Signature", "Production", "Création",
]  # fmt: skip
_A_OBJECTS = [
    "d'un guide de bonnes pratiques", "du cahier des charges", "de sessions de formation",
    "de la plateforme électronique", "d'une campagne de communication", "du rapport annuel",
    "des textes d'application", "d'un référentiel national", "d'une étude de benchmark",
    "du portail national", "d'ateliers régionaux", "d'une convention de partenariat",
    "du module de publication proactive", "d'un tableau de bord", "des données statistiques",
    "d'une charte éthique", "d'un espace numérique dédié", "du réseau des chargés d'information",
    "d'un mécanisme de consultation permanent", "des procédures administratives",
    "d'un programme de renforcement des capacités", "du projet de décret", "d'une enquête nationale",
]  # fmt: skip
_A_COMPLEMENTS = [
    "", "", "au profit des associations", "pour le suivi des réclamations des usagers",
    "au niveau des collectivités territoriales", "avec les partenaires concernés",
    "relatif au droit d'accès à l'information", "en faveur des femmes et des jeunes",
    "dans les établissements publics", "sur le portail national du gouvernement ouvert",
    "à destination des citoyens", "en concertation avec la société civile",
    "pour la préparation du budget citoyen", "dans le domaine de la participation citoyenne",
    "au sein des départements ministériels", "et sa mise en ligne sur le portail de formation",
]  # fmt: skip
_BODIES = [
    "Ministère de l'Économie et des Finances", "Ministère délégué chargé du budget",
    "Ministère de la Transition Numérique et de la Réforme de l'Administration",
    "Ministère de la Santé et de la Protection Sociale", "Ministère de la Justice",
    "Ministère de l'Intérieur - Direction Générale des Collectivités Territoriales",
    "Ministère chargé des Relations avec le Parlement", "Ministère de l'Éducation Nationale",
    "Instance Nationale de la Probité, de la Prévention et de la Lutte contre la Corruption",
    "Agence de Développement du Digital", "Haut-Commissariat au Plan",
    "Ministère de la Solidarité, de l'Insertion Sociale et de la Famille",
    "Conseil Supérieur du Pouvoir Judiciaire", "Département de l'Environnement",
    "Ministère de la Jeunesse, de la Culture et de la Communication",
]  # fmt: skip
_AXES = [
    "Transparence et qualité des services publics", "Egalité et inclusion", "Justice ouverte",
    "Participation citoyenne", "Collectivités territoriales ouvertes",
    "Intégrité et lutte contre la corruption", "Données ouvertes et innovation",
    "Redevabilité et communication", "Gouvernance numérique", "Environnement et développement durable",
]  # fmt: skip
_PUBLICS = ["cadres associatifs", "chargés d'information", "fonctionnaires", "élus locaux",
            "jeunes porteurs de projets", "femmes élues", "magistrats", "journalistes", "agents d'accueil"]  # fmt: skip
_DIRECTIONS = ["la Direction du Budget", "la Direction des Etudes et des Prévisions Financières",
               "la Direction de la Réforme de l'Administration", "la Direction des Systèmes d'Information",
               "la Direction Générale des Collectivités Territoriales", "la Direction de la Communication"]  # fmt: skip
_DOCS = ["guide méthodologique", "référentiel", "rapport de synthèse", "cahier des charges", "projet de loi",
         "projet de décret", "plan de communication", "manuel de procédures", "tableau de bord"]  # fmt: skip
_ACTORS = ["les experts", "les partenaires techniques", "les représentants de la société civile",
           "les départements concernés", "les membres du comité d'implémentation",
           "les points focaux régionaux"]  # fmt: skip
_AIMS = ["d'arrêter les termes de référence", "de valider la version finale du document",
         "de définir le calendrier de mise en œuvre", "de partager les premiers résultats",
         "de préparer la phase de généralisation", "d'identifier les besoins en formation"]  # fmt: skip
_SITES = ["www.gouvernement-ouvert.ma", "chafafiya.ma", "data.gov.ma", "www.charaka.ma",
          "le portail institutionnel"]  # fmt: skip
_BULLET_ACTIONS = [
    "Cadrage du projet", "Installation du système de gestion de l'apprentissage",
    "Préparation du support de formation", "Audit et révision de contenu",
    "Importation de la formation dans le portail", "Transfert des compétences",
    "Rédaction des spécifications fonctionnelles", "Recette technique de la plateforme",
    "Validation du contenu éditorial",
]  # fmt: skip

_IND_COUNT = [
    "Nombre de rapports publiés dans les délais", "Nombre d'administrations ayant adhéré à la plateforme",
    "Nombre des utilisateurs du portail", "Nombre d'attestations de formation obtenues",
    "Nombre de rencontres consultatives organisées", "Nombres d'acteurs concernés consultés",
    "Nombre des associations bénéficiaires des sessions de formation", "Nombre de jeux de données publiés",
    "Nombre de procédures et formalités simplifiées", "Nombre de collectivités territoriales disposant d'un site web",
]  # fmt: skip
_IND_RATE = [
    "Taux d'avancement du développement du système d'information", "Taux de demandes traitées via le portail",
    "Taux des informations publiées proactivement",
    "Pourcentage d'institutions engagées à fournir les informations à jour",
    "Taux d'opérationnalisation du programme", "Pourcentage des réclamations traitées dans les délais",
    "Taux de satisfaction des usagers", "Taux de couverture des collectivités territoriales",
]  # fmt: skip
_IND_OTHER = ["Espace de publication proactive créé et lancé", "Plateforme électronique opérationnelle",
              "Guide publié sur le portail", "Référentiel adopté"]  # fmt: skip
_IND_TAILS = ["par rapport aux informations listées dans l'article 10 de la loi 31.13", "sur la période du plan",
              "au niveau national et régional", "depuis le lancement de l'engagement"]  # fmt: skip

#: Wording changes between a commitment heading and its entry in the axes list.
_SYNONYMS = {
    "Renforcement": "Consolidation", "Consolidation": "Renforcement", "Amélioration": "Renforcement",
    "Promotion": "Encouragement", "Mise en place": "Instauration", "Développement": "Elaboration",
    "Lancement": "Mise en service", "administratives": "administratifs", "publics": "public",
    "numériques": "électroniques", "national": "nationale", "de la société civile": "des associations",
}  # fmt: skip

_STATUS_KEYWORDS = tuple(keyword for keyword, _ in STATUS_KEYWORDS)
_BAND_RES = tuple(pattern for pattern, _ in STATUS_BAND_PATTERNS)
_GLYPHS = {"o": "0", "e": "c", "i": "l", "l": "1", "a": "o", "m": "rn", "n": "ri", "t": "f", "é": "6", "s": "5",
           "g": "q", "r": "v", "c": "e", "p": "q", "0": "O", "1": "l", "5": "S", "6": "b", "9": "g"}  # fmt: skip


# --- document items ---------------------------------------------------------------------


@dataclass
class _Gap:
    """Blank lines between two blocks, where the PDF may also break a page (3 blank lines)."""

    blank_lines: int = 1
    residue: str | None = None  # a stray line (``/>``) the export left in the gap


def _add_gap(items: list, gaps: list[_Gap], blank_lines: int = 1) -> _Gap:
    """Append a gap to the block being built and remember it (damage may later add a page break there)."""
    g = _Gap(blank_lines)
    gaps.append(g)
    items.append(g)
    return g


@dataclass
class _Mark:
    """A line whose 1-based number the truth needs."""

    text: str
    key: tuple


PAGE_BREAK = 3


def render(items: list) -> tuple[list[str], dict[tuple, int]]:
    """Lines of the document and the line number (1-based) of every marked line."""
    lines: list[str] = []
    where: dict[tuple, int] = {}
    for item in items:
        if isinstance(item, _Gap):
            lines.extend([""] * item.blank_lines)
            if item.residue is not None:
                lines.append(item.residue)
                lines.extend([""] * item.blank_lines)
        elif isinstance(item, _Mark):
            lines.append(item.text)
            where[item.key] = len(lines)
        else:
            lines.append(item)
    return lines, where


# --- small pure helpers -------------------------------------------------------------------


def fold(text: str) -> str:
    """Lowercase ASCII, accents and ligatures removed (other symbols dropped): for comparisons."""
    text = text.replace("œ", "oe").replace("Œ", "OE")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


@functools.lru_cache(maxsize=4096)
def title_tokens(text: str) -> frozenset[str]:
    """Significant words of a title (folded, longer than two characters)."""
    return frozenset(w for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) > 2)


def jaccard(ta: frozenset[str], tb: frozenset[str]) -> float:
    """Jaccard similarity of two token sets (how the axes list is matched to headings)."""
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


_FOLDED_STATUS_LINES = [fold(s) for s in STATUS_LINES.values()]


def is_status_recognisable(text: str) -> bool:
    """Whether a (garbled) checklist line still says which status it is."""
    folded = fold(text)
    if any(k in folded for k in _STATUS_KEYWORDS) or any(p.search(folded) for p in _BAND_RES):
        return True
    for canonical in _FOLDED_STATUS_LINES:
        matcher = difflib.SequenceMatcher(None, folded, canonical, autojunk=False)
        if matcher.quick_ratio() >= 0.6 and matcher.ratio() >= 0.6:
            return True
    return False


def garble(rng: random.Random, text: str) -> str:
    """OCR-like damage that leaves a checklist line unrecognisable."""
    for _ in range(100):
        out = "".join(_GLYPHS[c] if c in _GLYPHS and rng.random() < 0.55 else c for c in text)
        if not is_status_recognisable(out):
            return out
    return "Nnn rcnsclqné (—%)"


def with_de(phrase: str) -> str:
    """``la X`` -> ``de la X``, ``le X`` -> ``du X``, ``les X`` -> ``des X``, ``un X`` -> ``d'un X``."""
    for article, joined in (("le ", "du "), ("les ", "des "), ("un ", "d'un "), ("une ", "d'une ")):
        if phrase.startswith(article):
            return joined + phrase[len(article) :]
    return "de " + phrase


def split_for_wrap(text: str, rng: random.Random, *, need_lower: bool) -> tuple[str, str] | None:
    """Cut ``text`` at a space between 45% and 80% of its length; the rest must not look like a status."""
    words = text.split(" ")
    cuts = [k for k in range(2, len(words) - 1) if 0.45 <= len(" ".join(words[:k])) / len(text) <= 0.8]
    if need_lower:
        cuts = [k for k in cuts if words[k][:1].islower()]
    rng.shuffle(cuts)
    for k in cuts:
        head, rest = " ".join(words[:k]), " ".join(words[k:])
        if not any(kw in fold(rest) for kw in _STATUS_KEYWORDS) and sum(c.isalpha() for c in rest) >= 2:
            return head, rest
    return None


def format_number(value: float, *, decimals: bool) -> str:
    """French number: ``1 250``, ``12,5``."""
    if decimals and value != int(value):
        return f"{value:.1f}".replace(".", ",")
    whole = int(value)
    return f"{whole:,}".replace(",", " ") if whole >= 1000 else str(whole)


def drop_accent(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    accented = [i for i, w in enumerate(words) if fold(w) != w.lower()]
    if not accented:
        return text
    i = rng.choice(accented)
    words[i] = "".join(c for c in unicodedata.normalize("NFKD", words[i]) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", " ".join(words))


def reword(rng: random.Random, title: str) -> str:
    """The title as the axes list or the rate table may print it: accents or a word changed."""
    choice = rng.random()
    if choice < 0.45:
        return title
    if choice < 0.65:
        return drop_accent(rng, title)
    if choice < 0.85:
        found = [w for w in _SYNONYMS if re.search(rf"\b{re.escape(w)}\b", title)]
        if found:
            w = rng.choice(found)
            return re.sub(rf"\b{re.escape(w)}\b", _SYNONYMS[w], title, count=1)
        return title
    return title.replace(" de la ", " la ", 1) if " de la " in title else drop_accent(rng, title)


def dominant(variants: list[str], titles: list[str]) -> list[bool]:
    """For each axes-list variant, whether it matches its own heading title beyond doubt.

    The variant must score at least 0.6 against its own title and beat, by 0.05, every
    other score of its row (other titles) and column (other variants). When every
    variant passes, matching best pairs first (what a reader or a parser does) pairs
    each variant with its own title, so the truth's ``axis_no`` is recoverable.
    """
    n = len(titles)
    title_sets = [title_tokens(t) for t in titles]
    scores = [[jaccard(title_tokens(v), ts) for ts in title_sets] for v in variants]
    ok = []
    for i in range(n):
        own = scores[i][i]
        others = [scores[i][j] for j in range(n) if j != i] + [scores[k][i] for k in range(n) if k != i]
        ok.append(own >= 0.6 and all(own > s + 0.05 for s in others))
    return ok


# --- layout drift: how other exports lay the template out ------------------------------------

#: Kinds of layout drift, none by default: a report without drift is byte for byte what the
#: generator wrote before drift existed.
DRIFT_KINDS = (
    "heading_variants",  # « ENGAGEMENT N°3 : », « Engagement 3 - », « Activité 2. », mixed case
    "status_in_words",  # « Statut : Progression limitée » instead of the four-line checklist
    "page_furniture",  # running headers and footers, page numbers, form feeds between any two lines
    "hyphenation",  # a word cut at a line's end with a hyphen, where a title or a cell wraps
    "interleaved_cell",  # a narrative's fragments out of order, a run of words repeated
)
#: Probability of a drift kind on each unit it can hit (heading, activity, wrap point, narrative).
DEFAULT_DRIFT_RATE = 0.5
_COMMITMENT_WORD_FORMS = (COMMITMENT_WORD, COMMITMENT_WORD.capitalize(), COMMITMENT_WORD.lower())
_ACTIVITY_WORD_FORMS = (
    ACTIVITY_WORD,
    ACTIVITY_WORD.upper(),
    ACTIVITY_WORD.lower(),
    fold(ACTIVITY_WORD).capitalize(),
    fold(ACTIVITY_WORD).upper(),
)
_TEMPLATE_SEPARATORS = (" : ", ": ")
_HEADING_SEPARATORS = _TEMPLATE_SEPARATORS + tuple(f" {d} " for d in HEADING_DASHES) + (". ",)
_STATUS_WORD_SEPARATORS = (" : ", ": ", " – ", " - ")
#: Pages of text between two page breaks, and the fewest page breaks of a report (a running
#: header must recur for the parser to know it).
LINES_PER_PAGE = 50
MIN_PAGE_BREAKS = 3
_RUNNING_HEADERS = (
    "ROYAUME DU MAROC – GOUVERNEMENT OUVERT",
    "OPEN GOVERNMENT MOROCCO",
    "Gouvernement ouvert – Rapport d'auto-évaluation",
)
_RUNNING_FOOTERS = ("Rapport d'auto-évaluation du PAN {period}", "Département de la Réforme de l'Administration")
#: Shortest word cut by a hyphen, and the fewest letters on each side of the cut.
MIN_HYPHENATED_CHARS, MIN_HYPHEN_PART = 6, 3
#: Words a narrative needs to be interleaved, and words repeated at the cut (the seed's repeat has 8).
MIN_INTERLEAVED_WORDS, INTERLEAVED_REPEAT_WORDS = 24, 8
#: Characters the repeated words have at least (the parser wants 30 to take a repeat for proof).
MIN_REPEAT_CHARS = 40
_SENTENCE_END = (".", "!", "?", ";", ":")


class _Drift:
    """Layout drift, drawn from its own random stream: the main stream, and so the report's
    content, is the same with or without it. Each change is recorded for the truth."""

    def __init__(self, report_id: str, kinds, rate: float):
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(DRIFT_KINDS)
        if unknown:
            raise ValueError(f"unknown drift kind(s): {', '.join(sorted(unknown))} (known: {', '.join(DRIFT_KINDS)})")
        self.rate = max(0.0, min(1.0, float(rate)))
        self.rng = random.Random(f"pgo-synth-drift:{report_id}:{','.join(sorted(self.kinds))}")
        self.records: list[dict] = []

    def hit(self, kind: str) -> bool:
        return kind in self.kinds and self.rng.random() < self.rate

    def record(self, kind: str, commitment_no: int | None, activity_no: int | None, detail: str, **extra) -> None:
        self.records.append(
            {"kind": kind, "commitment_no": commitment_no, "activity_no": activity_no, "detail": detail, **extra}
        )

    def heading(self, prefix: str, number: int, words: tuple[str, ...], where: tuple) -> str:
        """``prefix`` (« ENGAGEMENT 3 : ») or, on a hit, another form of it (« Engagement N°3 - »)."""
        if not self.hit("heading_variants"):
            return prefix
        rng = self.rng
        while True:
            word, sign, sep = rng.choice(words), rng.choice(("",) + NUMERO_SIGNS), rng.choice(_HEADING_SEPARATORS)
            if not (word == words[0] and not sign and sep in _TEMPLATE_SEPARATORS):
                break
        number_text = f"{sign}{rng.choice(('', ' '))}{number}" if sign else str(number)
        form = f"{word} {number_text}{sep}"
        self.record("heading_variants", *where, form.strip())
        return form

    def hyphenate(self, head: str, tail: str, where: tuple) -> tuple[str, str]:
        """On a hit, cut ``head``'s last word with a hyphen and move its end to ``tail``'s start."""
        word = head.rsplit(" ", 1)[-1]
        if len(word) < MIN_HYPHENATED_CHARS or not word.isalpha() or not tail.strip() or not self.hit("hyphenation"):
            return head, tail
        cut = self.rng.randint(MIN_HYPHEN_PART, len(word) - MIN_HYPHEN_PART)
        self.record("hyphenation", *where, f"{word[:cut]}-{word[cut:]}")
        return f"{head[: len(head) - len(word)]}{word[:cut]}-", f"{word[cut:]} {tail}"

    def status_line(self, status: str, bullet: str, where: tuple) -> str | None:
        """On a hit, the one line that gives ``status`` in words (« Statut : Progression limitée »)."""
        if not self.hit("status_in_words"):
            return None
        rng = self.rng
        phrase = rng.choice((STATUS_PHRASES[status], STATUS_LINES[status], STATUS_BAND_TEXTS[status]))
        line = f"{bullet}{rng.choice(STATUS_WORD_LABELS)}{rng.choice(_STATUS_WORD_SEPARATORS)}{phrase}"
        self.record("status_in_words", *where, line)
        return line

    def interleave(self, paragraph: str, where: tuple) -> list[str] | None:
        """On a hit, the paragraph as the PDF-to-text tool interleaves it: three fragments in
        the order (A, B, C) for the text B A C, C repeating A's last words. Whether the text
        proves the order (B stops mid-sentence, A starts mid-sentence) is drawn too."""
        words = paragraph.split(" ")
        n, r = len(words), INTERLEAVED_REPEAT_WORDS
        if n < MIN_INTERLEAVED_WORDS or not self.hit("interleaved_cell"):
            return None
        proven = self.rng.random() < 0.5
        cuts_b = [
            i
            for i in range(2, n // 2)
            if words[i - 1].endswith(_SENTENCE_END) != proven and words[i][:1].islower() == proven
        ]
        for i in self.rng.sample(cuts_b, len(cuts_b)):
            cuts_c = [j for j in range(i + r + 2, n - 2) if not words[j - 1].endswith(_SENTENCE_END)]
            for j in self.rng.sample(cuts_c, len(cuts_c)):
                fragments = [" ".join(words[i:j]), " ".join(words[:i]), " ".join(words[j - r :])]
                run = " ".join(words[j - r : j])
                if len(run) >= MIN_REPEAT_CHARS and "\n".join(fragments).count(run) == 2:
                    self.record(
                        "interleaved_cell",
                        *where,
                        "proven" if proven else "unproven",
                        text=paragraph,
                        fragments=fragments,
                    )
                    return fragments
        return None

    def add_page_furniture(
        self, lines: list[str], where: dict[tuple, int], period: str
    ) -> tuple[list[str], dict[tuple, int]]:
        """Insert page furniture between lines chosen at random; return the lines and the marks' new numbers."""
        if "page_furniture" not in self.kinds or len(lines) < 2:
            return lines, where
        rng = self.rng
        style = rng.choice(("pdftotext", "numbers", "worded"))
        header, footer = rng.choice(_RUNNING_HEADERS), rng.choice(_RUNNING_FOOTERS).format(period=period)
        breaks = sorted(
            rng.sample(range(1, len(lines)), min(len(lines) - 1, max(MIN_PAGE_BREAKS, len(lines) // LINES_PER_PAGE)))
        )
        total = len(breaks) + 1
        out, shift, inserted = [], [], 0
        for k, line in enumerate(lines):
            if breaks and k == breaks[0]:
                page = total - len(breaks)
                breaks.pop(0)
                block = {"pdftotext": [footer, str(page), f"\f{header}"], "numbers": ["\f", f"- {page} -"],
                         "worded": [header, f"Page {page} sur {total}"]}[style]  # fmt: skip
                out.extend(block)
                inserted += len(block)
            out.append(line)
            shift.append(inserted)
        self.record("page_furniture", None, None, f"{style}: {total - 1} page break(s)")
        return out, {key: number + shift[number - 1] for key, number in where.items()}


# --- one report -------------------------------------------------------------------------


class _ReportBuilder:
    """Builds one report's items and truth; every random choice comes from ``rng`` in a fixed order."""

    def __init__(
        self, rng: random.Random, report_id: str, damage_rate: float, drift=(), drift_rate: float = DEFAULT_DRIFT_RATE
    ):
        self.drift = _Drift(report_id, drift, drift_rate)
        self.rng = rng
        self.report_id = report_id
        self.rate = max(0.0, min(1.0, float(damage_rate)))
        m = _PERIOD_IN_ID_RE.search(report_id)
        self.start, self.end = (int(m.group(1)), int(m.group(2))) if m else rng.choice(PERIODS)
        self.period = f"{self.start}-{self.end}"
        self.as_of_year = self.end if rng.random() < 0.6 else self.end - 1
        self.as_of_month = rng.randint(1, 12)
        self.mark = rng.choice(CHECK_MARKS)
        self.box = EMPTY_BOXES.get(self.mark) if rng.random() < 0.7 else None
        self.bullet = rng.choice(BULLETS)
        self.ind_bullet = rng.choice(("- ", "• "))
        self.encoding = "utf-8-sig" if rng.random() < 0.2 else "utf-8"
        self.line_ending = "crlf" if rng.random() < 0.25 else "lf"
        self.damage: list[dict] = []
        self.items: list = []

    # -- damage bookkeeping

    def hit(self) -> bool:
        return self.rng.random() < self.rate

    def record(self, kind: str, commitment_no: int, activity_no: int | None, detail: str = "") -> None:
        self.damage.append({"kind": kind, "commitment_no": commitment_no, "activity_no": activity_no, "detail": detail})

    # -- content

    def commitment_titles(self, n: int) -> list[str]:
        titles: list[str] = []
        seen: list[frozenset] = []
        while len(titles) < n:
            action, obj, qual = self.rng.choice(_C_ACTIONS), self.rng.choice(_C_OBJECTS), self.rng.choice(_C_QUALIFIERS)
            title = f"{action} {with_de(obj)}" + (f" {qual}" if qual else "")
            tokens = title_tokens(title)
            if any(jaccard(tokens, s) > 0.5 for s in seen):
                continue
            titles.append(title)
            seen.append(tokens)
        return titles

    def activity_title(self) -> str:
        rng = self.rng
        title = f"{rng.choice(_A_ACTIONS)} {rng.choice(_A_OBJECTS)}"
        for _ in range(rng.choice((1, 1, 2))):
            comp = rng.choice(_A_COMPLEMENTS)
            if comp and comp not in title:
                title += f" {comp}"
        return title

    def sentence(self) -> str:
        rng = self.rng
        choice = rng.randrange(6)
        if choice == 0:
            return (
                f"Organisation de {rng.randint(2, 20)} ateliers de formation au profit de "
                f"{rng.randint(20, 400)} {rng.choice(_PUBLICS)}."
            )
        if choice == 1:
            return (
                f"Un {rng.choice(_DOCS)} a été préparé par {rng.choice(_DIRECTIONS)} "
                f"et partagé avec {rng.choice(_ACTORS)}."
            )
        if choice == 2:
            return f"Plusieurs réunions ont été tenues avec {rng.choice(_ACTORS)} afin {rng.choice(_AIMS)}."
        if choice == 3:
            day, month, year = rng.randint(1, 28), rng.choice(MONTHS), self.end - rng.randint(0, 2)
            return (
                f"La version finale du {rng.choice(_DOCS)} a été validée par le comité de pilotage "
                f"le {day} {month} {year}."
            )
        if choice == 4:
            return (
                f"Mise en ligne du {rng.choice(_DOCS)} sur {rng.choice(_SITES)} et diffusion auprès de "
                f"{rng.randint(20, 400)} {rng.choice(_PUBLICS)}."
            )
        return f"Le {rng.choice(_DOCS)} est en cours de finalisation en concertation avec {rng.choice(_ACTORS)}."

    def paragraph(self, k: int) -> str:
        return " ".join(self.sentence() for _ in range(k))

    def context_paragraph(self) -> str:
        rng = self.rng
        parts = [
            "Le Royaume du Maroc s'est engagé dans un processus de réformes visant à ancrer les valeurs de la "
            "démocratie participative et à consacrer les principes de la bonne gouvernance.",
            "Cette initiative vise à renforcer la transparence, la redevabilité et la participation citoyenne en "
            "plaçant le citoyen au cœur de l'action publique.",
            "Une plateforme nationale dédiée au gouvernement ouvert a été créée pour permettre à tous de suivre les "
            f"réalisations concernant ce chantier ({rng.choice(_SITES)}).",
            "Un système de gouvernance spécifique basé sur un partenariat solide avec la société civile a été mis en "
            "place, avec une représentation équitable des administrations et des associations.",
            f"Dans cette perspective, {rng.randint(5, 15)} réunions consultatives thématiques ont été organisées, "
            "réunissant des acteurs publics et des représentants de la société civile.",
            "Les propositions recueillies lors de la consultation publique ont été examinées par le comité de pilotage "
            "afin de retenir celles qui pouvaient être incluses dans les projets d'engagements.",
        ]
        return " ".join(rng.sample(parts, rng.randint(2, 4)))

    # -- the report

    def build(self) -> tuple[str, dict]:
        rng = self.rng
        titles = self.plan_titles()
        n = len(titles)
        has_toc, has_axes, has_rates = self.layout_parts(n)
        commitments = [self.plan_commitment(no, title, has_rates) for no, title in enumerate(titles, start=1)]
        axes = self.plan_axes(commitments) if has_axes else []
        published = [c["published_rate_pct"] for c in commitments if c["published_rate_pct"] is not None]
        global_rate = round(sum(published) / len(published)) if published else rng.randint(30, 95)
        if rng.random() < 0.15:
            global_rate += 0.5

        self.front_matter(commitments, axes, global_rate, has_toc, has_rates)
        for c in commitments:
            self.items.extend(c.pop("_items"))
        lines, where = render(self.items)
        lines, where = self.drift.add_page_furniture(lines, where, self.period)

        truth_commitments = []
        for c in commitments:
            c["heading_line"] = where[("c", c["commitment_no"])]
            for a in c["activities"]:
                a["heading_line"] = where[("a", c["commitment_no"], a["activity_no"])]
            for ind in c["indicators"]:
                ind["line"] = where[("i", c["commitment_no"], ind["indicator_no"])]
            truth_commitments.append({k: v for k, v in c.items() if not k.startswith("_")})

        eol = "\r\n" if self.line_ending == "crlf" else "\n"
        text = ("\ufeff" if self.encoding == "utf-8-sig" else "") + eol.join(lines) + eol
        truth = {
            "report_id": self.report_id,
            "plan_period": self.period,
            "as_of": f"{self.as_of_year}-{self.as_of_month:02d}",
            "global_rate_pct": global_rate,
            "encoding": self.encoding,
            "line_ending": self.line_ending,
            "line_count": len(lines),
            "layout": {
                "toc": has_toc,
                "axes_section": has_axes,
                "rate_table": has_rates,
                "check_mark": self.mark,
                "bullet": self.bullet.strip(),
            },
            "commitments": truth_commitments,
            "axes": [{"axis_no": a["axis_no"], "name": a["name"]} for a in axes],
            "damage": self.damage,
        }
        if self.drift.kinds:
            truth["layout"]["drift"] = sorted(self.drift.kinds)
            truth["drift"] = self.drift.records
        return text, truth

    # -- hooks a follow-up report overrides (same random draws, in the same order, here)

    def plan_titles(self) -> list[str]:
        """The commitments' titles, in sentence case."""
        n = max(1, min(30, int(self.rng.gauss(12, 7))))
        return self.commitment_titles(n)

    def layout_parts(self, n: int) -> tuple[bool, bool, bool]:
        """Whether the report has a table of contents, an axes section, a rate table."""
        rng = self.rng
        has_toc = rng.random() < 0.85
        has_axes = n >= 2 and rng.random() < 0.85
        has_rates = rng.random() < 0.85
        return has_toc, has_axes, has_rates

    def activity_statuses(self, no: int) -> list[str]:
        """The statuses of commitment ``no``'s activities, one per activity."""
        rng = self.rng
        return rng.choices(STATUSES, weights=(15, 15, 20, 50), k=max(1, min(15, int(rng.gauss(5, 3)))))

    def planned_activity_title(self, no: int, k: int) -> str:
        """The title of activity ``k`` of commitment ``no``."""
        return self.activity_title()

    # -- planning a commitment (content, damage, items) ---------------------------------

    def plan_commitment(self, no: int, title: str, has_rates: bool) -> dict:
        rng = self.rng
        heading_title = title.upper()
        c = {
            "commitment_no": no,
            "title": heading_title,
            "axis_no": None,
            "responsible_body": rng.choice(_BODIES),
            "activities": [],
            "indicators": [],
            "published_rate_pct": None,
            "_sentence_title": title,
        }
        statuses = self.activity_statuses(no)
        items: list = self.commitment_heading(no, heading_title)
        c_gaps: list[_Gap] = []

        def gap(blank_lines: int = 1) -> _Gap:
            return _add_gap(items, c_gaps, blank_lines)

        gap()
        if self.hit():
            self.record("responsible_body_missing", no, None)
            c["responsible_body"] = None
        self.two_column_table(c, items, gap)
        gap()
        for k, status in enumerate(statuses, start=1):
            items.extend(self.activity(c, k, status))
            items.append(_Gap(1))
        rates = [{"not_started": 0, "limited": rng.randint(10, 59), "substantial": rng.randint(60, 90),
                  "complete": 100}[s] for s in statuses]  # fmt: skip
        if has_rates:
            if self.hit():
                self.record("published_rate_missing", no, None)
            else:
                c["published_rate_pct"] = round(sum(rates) / len(rates))
        n_ind = rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6))
        if n_ind:
            self.indicators(c, n_ind, items, gap)
        if self.hit():
            self.record("page_break", no, None)
            rng.choice(c_gaps).blank_lines = PAGE_BREAK
        if self.hit():
            self.commitment_markup(items, c_gaps, no, n_ind)
        items.append(_Gap(1))
        c["_items"] = items
        return c

    def commitment_heading(self, no: int, heading_title: str) -> list:
        """The heading's items: its line (marked for the truth) and, when wrapped, the title's rest."""
        rng = self.rng
        colon = " : " if rng.random() < 0.6 else ": "
        heading = f"{COMMITMENT_WORD} {no}{colon}"
        long_heading = len(heading) + len(heading_title) > 75
        wrap = split_for_wrap(heading_title, rng, need_lower=False) if long_heading and rng.random() < 0.6 else None
        heading = self.drift.heading(heading, no, _COMMITMENT_WORD_FORMS, (no, None))
        if wrap:
            wrap = self.drift.hyphenate(wrap[0], wrap[1], (no, None))
        head_lines = [heading + wrap[0], wrap[1]] if wrap else [heading + heading_title]
        items: list = [_Mark(head_lines[0], ("c", no))]
        if len(head_lines) > 1:
            items.extend(["", head_lines[1]])
        return items

    def commitment_markup(self, items: list, c_gaps: list[_Gap], no: int, n_ind: int) -> None:
        """Stray markup on the heading, on the indicators' heading, or alone in a gap."""
        rng = self.rng
        where = rng.choice(["heading", "residue"] + (["indicators"] if n_ind else []))
        if where == "residue":
            rng.choice(c_gaps).residue = "/>"
        else:
            key = ("c", no) if where == "heading" else ("h", no)
            for i, it in enumerate(items):
                if isinstance(it, _Mark) and it.key == key:
                    items[i] = _Mark(f"<u>{it.text}</u>", it.key)
                    break
        self.record("stray_markup", no, None, where)

    def two_column_table(self, c: dict, items: list, gap) -> None:
        rng = self.rng
        rows = []
        if c["responsible_body"] is not None:
            if rng.random() < 0.1:
                rows.append([f"{_BODY_LABEL_HEAD}\t{c['responsible_body']}", _BODY_LABEL_TAIL])
            else:
                rows.append([f"{FIELD_NAMES_FR['responsible_body']}\t{c['responsible_body']}"])
        for label in (FIELD_NAMES_FR["problem"], FIELD_NAMES_FR["solution"], FIELD_NAMES_FR["expected_result"]):
            text = self.paragraph(rng.randint(1, 3))
            style = rng.random()
            if style < 0.5:
                rows.append([f"{label}\t{text}"])
            elif style < 0.85:
                chunks = wrap_text(text, rng.randint(70, 95))
                mid = len(chunks) // 2
                for i in range(len(chunks) - 1):
                    if i + 1 != mid and " " in chunks[i + 1]:
                        chunks[i], chunks[i + 1] = self.drift.hyphenate(
                            chunks[i], chunks[i + 1], (c["commitment_no"], None)
                        )
                rows.append([("\t" if i != mid else f"{label}\t") + chunk for i, chunk in enumerate(chunks)])
            else:
                rows.append([label, "", text])
        for r, row in enumerate(rows):
            if r:
                gap(0)
            items.extend(row)

    def activity(self, c: dict, k: int, status: str) -> list:
        """One activity's items: heading, status block and narrative, with their damage and drift."""
        rng = self.rng
        no = c["commitment_no"]
        title = self.planned_activity_title(no, k)
        a = {"activity_no": k, "title": title, "status": status}
        c["activities"].append(a)
        items: list = []
        gaps: list[_Gap] = []

        def gap(blank_lines: int = 1) -> _Gap:
            return _add_gap(items, gaps, blank_lines)

        markup_where = self.activity_heading(items, gap, no, k, title)
        gap()
        body_status, out_of_order = self.status_block(no, k, a, status, markup_where)
        actions, markup_where = self.actions_block(no, k, markup_where, out_of_order)
        blocks = [body_status, actions] if rng.random() < 0.7 or not actions else [actions, body_status]
        for b, block in enumerate(blk for blk in blocks if blk):
            if b:
                gap()
            for piece in block:
                if piece is None:
                    gap()
                elif isinstance(piece, int):
                    gap(piece)
                else:
                    items.append(piece)

        if markup_where == "residue":
            rng.choice(gaps).residue = "/>"
        if markup_where in ("heading", "escape", "status", "residue"):
            self.record("stray_markup", no, k, markup_where)
        if self.hit():
            self.record("page_break", no, k)
            rng.choice(gaps).blank_lines = PAGE_BREAK
        return items

    def activity_heading(self, items: list, gap, no: int, k: int, title: str) -> str | None:
        """The heading (and its wrapped title, any duplicate); returns where stray markup goes, if anywhere."""
        rng = self.rng
        label = f"{ACTIVITY_WORD} {k}" + (" : " if rng.random() < 0.7 else ": ")
        wrap = split_for_wrap(title, rng, need_lower=True) if len(title) > 60 and rng.random() < 0.35 else None
        label = self.drift.heading(label, k, _ACTIVITY_WORD_FORMS, (no, k))
        if wrap:
            wrap = self.drift.hyphenate(wrap[0], wrap[1], (no, k))
        first = label + (wrap[0] if wrap else title)
        markup_where = rng.choice(("heading", "escape", "status", "residue", "actions")) if self.hit() else None
        if markup_where == "escape" and "'" not in first:
            markup_where = "heading"
        if markup_where == "heading":
            first = f"<u>{first}</u>"
        elif markup_where == "escape":
            first = first.replace("'", "\\'", 1)
        if self.hit():
            self.record("activity_heading_duplicated", no, k)
            items.append(first)
            gap(rng.choice((1, 1, PAGE_BREAK)))
        items.append(_Mark(first, ("a", no, k)))
        if wrap:
            items.extend(["", wrap[1]])
        return markup_where

    def status_block(self, no: int, k: int, a: dict, status: str, markup_where: str | None) -> tuple[list, bool]:
        """The checklist (or its one line in words), possibly out of order with text between; and
        whether it is out of order."""
        rng = self.rng
        damage_before = len(self.damage)
        checklist = self.checklist(no, k, a, status)
        status_damaged = len(self.damage) > damage_before
        if markup_where == "status":
            i = rng.randrange(len(checklist))
            checklist[i] = f"<u>{checklist[i]}</u>"
        body_status: list = []
        out_of_order = self.hit()
        if out_of_order:
            self.record("status_lines_out_of_order", no, k)
            order = list(range(4))
            while order == sorted(order):
                rng.shuffle(order)
            inserted = rng.sample(range(1, 4), rng.randint(1, 2))
            for pos, i in enumerate(order):
                if pos in inserted:
                    body_status += [None, self.sentence(), None]
                elif pos:
                    body_status.append(0)
                body_status.append(checklist[i])
        else:
            for i, line in enumerate(checklist):
                if i:
                    body_status.append(0)
                body_status.append(line)
        keep = status_damaged or markup_where == "status"
        words = None if keep else self.drift.status_line(status, self.bullet, (no, k))
        if words is not None:
            body_status = _replace_checklist(body_status, checklist, words)
        return body_status, out_of_order

    def actions_block(self, no: int, k: int, markup_where: str | None, out_of_order: bool) -> tuple[list, str | None]:
        """The « Actions réalisées » narrative, maybe interleaved; and where stray markup goes now."""
        rng = self.rng
        actions: list = []
        if rng.random() < 0.75:
            head = f"<u>{ACTIONS_LABEL}</u>" if markup_where == "actions" else ACTIONS_LABEL
            if markup_where == "actions":
                self.record("stray_markup", no, k, "actions heading in <u>…</u>")
            if rng.random() < 0.15:
                actions = [f"{head}\t{self.sentence()}"]
            else:
                actions = [head, 1]
                if rng.random() < 0.5:
                    for j, b in enumerate(rng.sample(_BULLET_ACTIONS, rng.randint(1, 4))):
                        if j:
                            actions.append(0)
                        actions.append(f"- {b}")
                else:
                    for j in range(rng.randint(1, 3)):
                        if j:
                            actions.append(1)
                        actions.append(self.paragraph(rng.randint(1, 3)))
        elif markup_where == "actions":
            markup_where = "residue"
        if len(actions) == 3 and isinstance(actions[2], str) and not out_of_order:
            fragments = self.drift.interleave(actions[2], (no, k))
            if fragments is not None:
                # Blank lines as lines, not gaps: the damage's choice among the gaps stays the same.
                actions = [actions[0], 1, fragments[0], "", fragments[1], "", fragments[2]]
        return actions, markup_where

    def checklist(self, no: int, k: int, a: dict, status: str) -> list[str]:
        """The four status lines with their check mark, after any status damage."""
        rng = self.rng
        checked = {status}
        texts = dict(STATUS_LINES)
        p = min(self.rate, 1 / len(STATUS_DAMAGE))
        u = rng.random()
        if u < p:
            self.record("check_mark_lost", no, k)
            checked = set()
            a["status"] = "unknown"
        elif u < 2 * p:
            other = rng.choice([s for s in STATUSES if s != status])
            self.record("two_check_marks", no, k, other)
            checked = {status, other}
            a["status"] = "unknown"
        elif u < 3 * p:
            target = status if rng.random() < 0.5 else rng.choice([s for s in STATUSES if s != status])
            texts[target] = garble(rng, texts[target])
            self.record(
                "status_line_garbled", no, k, "checked line" if target == status else f"unchecked line {target}"
            )
            if target == status:
                a["status"] = "unknown"
        lines = []
        for s in STATUSES:
            bullet = "" if rng.random() < 0.03 else self.bullet
            if s in checked:
                lines.append(f"{bullet}{self.mark} {texts[s]}")
            elif self.box:
                lines.append(f"{bullet}{self.box} {texts[s]}")
            else:
                lines.append(f"{bullet}{texts[s]}")
        return lines

    def indicators(self, c: dict, n: int, items: list, gap) -> None:
        rng = self.rng
        no = c["commitment_no"]
        colon = " :" if rng.random() < 0.6 else ":"
        items.append(_Mark(f"{INDICATORS_HEADING} {no}{colon}", ("h", no)))
        gap()
        for i in range(1, n + 1):
            kind = rng.choices(("count", "rate", "other"), weights=(55, 35, 10))[0]
            if kind == "count":
                label = rng.choice(_IND_COUNT)
                value = float(rng.choice((rng.randint(1, 60), rng.randint(1, 3000))))
                percent = rng.random() < 0.1
                raw = format_number(value, decimals=False) + ("%" if percent else "")
            elif kind == "rate":
                label = rng.choice(_IND_RATE)
                value = float(rng.randint(0, 100)) + (0.5 if rng.random() < 0.1 else 0.0)
                raw = format_number(value, decimals=True) + rng.choice(("%", "%", " %", ""))
            else:
                label = rng.choice(_IND_OTHER)
                raw = rng.choice(("1", "Oui", "En cours"))
                value = 1.0 if raw == "1" else None
            if rng.random() < 0.3:
                label = f"{label} {rng.choice(_IND_TAILS)}"
            sep = rng.choice((" : ", " : ", ": ", ":"))
            c["indicators"].append({"indicator_no": i, "label": label, "raw_value": raw, "value": value,
                                    "unit": "percent" if "%" in raw else None, "kind": kind})  # fmt: skip
            if i > 1:
                gap(0)
            shape = rng.random()
            if shape < 0.1:
                items.append(_Mark(f"{self.ind_bullet}{label}{sep.rstrip()}", ("i", no, i)))
                gap(0)
                items.append(f" {raw}")
            elif shape < 0.18 and (cut := split_for_wrap(label, rng, need_lower=True)):
                cut = self.drift.hyphenate(cut[0], cut[1], (no, None))
                items.append(_Mark(f"{self.ind_bullet}{cut[0]}", ("i", no, i)))
                gap(0)
                items.append(f" {cut[1]}{sep}{raw}")
            else:
                items.append(_Mark(f"{self.ind_bullet}{label}{sep}{raw}", ("i", no, i)))

    # -- axes and front matter -------------------------------------------------------------

    def plan_axes(self, commitments: list[dict]) -> list[dict]:
        rng = self.rng
        n = len(commitments)
        k = rng.randint(2, min(6, n))
        names = rng.sample(_AXES, k)
        cuts = sorted(rng.sample(range(1, n), k - 1))
        bounds = [0, *cuts, n]
        axes = []
        titles = [c["_sentence_title"] for c in commitments]
        variants = [reword(rng, t) for t in titles]
        ok = dominant(variants, titles)
        while not all(ok):
            variants = [v if good else t for v, t, good in zip(variants, titles, ok)]
            ok = dominant(variants, titles)
        for a_no in range(1, k + 1):
            members = commitments[bounds[a_no - 1] : bounds[a_no]]
            for c in members:
                c["axis_no"] = a_no
            axes.append({"axis_no": a_no, "name": names[a_no - 1],
                         "items": [variants[c["commitment_no"] - 1] for c in members]})  # fmt: skip
        return axes

    def front_matter(
        self, commitments: list[dict], axes: list[dict], global_rate: float, has_toc: bool, has_rates: bool
    ) -> None:
        """Everything before the first commitment: title, date, table of contents, context, axes, rates."""
        rng = self.rng
        out = self.items
        dash = rng.choice(("–", "-"))
        period_dash = f"{self.start} {dash} {self.end}"
        month = MONTHS[self.as_of_month - 1]
        out += ["", "", f"Rapport d'auto-évaluation du Plan d'Action National du Gouvernement Ouvert {period_dash}"]
        out += ["", "", "", f"{month.capitalize()} {self.as_of_year}", ""]
        if has_toc:
            self.table_of_contents(commitments, axes, period_dash)
        out += ["Contexte général", "", self.context_paragraph(), "", self.context_paragraph()]
        out += [_Gap(PAGE_BREAK), "Méthodologie de cocréation du plan d'action national du Gouvernement Ouvert", ""]
        out += [
            f"Le plan d'action national du gouvernement ouvert pour la période {self.period} a été élaboré selon "
            "une approche participative. " + self.context_paragraph(),
            "",
        ]
        if axes:
            self.axes_section(commitments, axes, period_dash)
        else:
            out.append("")
        self.follow_up_section()
        rate_text = format_number(global_rate, decimals=True)
        when = rng.choice((f"jusqu'à fin du mois de {month} {self.as_of_year}", f"à fin {month} {self.as_of_year}"))
        out += ["Taux de réalisation", "", "Avancement global de mise en œuvre du plan d'action national", ""]
        out += [
            f"Le taux d'avancement global de la mise en œuvre du plan d'action national {self.period} {when} "
            f"est de {rate_text}%.",
            "",
        ]
        out += ["Taux d'avancement par axe", _Gap(PAGE_BREAK)]
        if has_rates:
            self.rate_table(commitments)
        else:
            out += [
                "Les taux d'avancement par engagement sont publiés sur la plateforme nationale du gouvernement ouvert."
            ]
        out += [_Gap(PAGE_BREAK), "Bilan des réalisations des engagements", ""]

    def table_of_contents(self, commitments: list[dict], axes: list[dict], period_dash: str) -> None:
        rng = self.rng
        out = self.items
        out += ["Table des matières", ""]
        page = 4
        toc = [("CONTEXTE GENERAL", 1), ("METHODOLOGIE DE COCREATION DU PLAN D'ACTION NATIONAL", 2)]
        if axes:
            toc.append((f"PLAN D'ACTION NATIONAL {period_dash}", 2))
        toc += [("MECANISMES DE SUIVI", 1), ("TAUX DE REALISATION", 0),
                ("TAUX D'AVANCEMENT PAR ENGAGEMENT", 2), ("BILAN DES REALISATIONS DES ENGAGEMENTS", 0)]  # fmt: skip
        for name, pages in toc:
            out.append(f"{name}\t{page}")
            page += pages
        for c in commitments:
            word = COMMITMENT_WORD[1:] if rng.random() < 0.05 else COMMITMENT_WORD
            entry = f"{word} {c['commitment_no']} : {c['title']}"
            cut = split_for_wrap(entry, rng, need_lower=False) if len(entry) > 90 else None
            if cut:
                out += [f"{cut[0]}\t", f"{cut[1]}\t{page}"]
            else:
                out.append(f"{entry}\t{page}")
            page += rng.randint(2, 9)
        out.append("")

    def axes_section(self, commitments: list[dict], axes: list[dict], period_dash: str) -> None:
        rng = self.rng
        out = self.items
        out += [_Gap(PAGE_BREAK), f"Plan d'action national {period_dash}", ""]
        out.append(
            f"La version finale du plan d'action national pour la période {self.period} a été approuvée "
            "et publiée, "
            f"comprenant {len(commitments)} engagements répartis sur {len(axes)} axes :"
        )
        bullet = rng.choice(("- ", "• "))
        for axis in axes:
            out += [_Gap(rng.choice((1, PAGE_BREAK))), axis["name"], ""]
            out += [f"{bullet}{item}" for item in axis["items"]]
        out.append(_Gap(PAGE_BREAK))

    def follow_up_section(self) -> None:
        out = self.items
        out += ["Mécanismes de suivi", "", self.context_paragraph(), ""]
        out += [
            "Comité d'implémentation",
            "",
            "Parmi les missions des membres du comité d'implémentation figurent :",
            "",
        ]
        out += [
            "- Implémentation des engagements ;",
            "- Reporting de l'état d'avancement de la mise en œuvre des engagements ;",
            "",
        ]
        out += [_Gap(PAGE_BREAK), "Plateforme numérique de suivi des engagements en ligne", ""]
        out += [
            f"La plateforme nationale du gouvernement ouvert <u>{_SITES[0]}</u> regroupe toutes les informations "
            "concernant le chantier du gouvernement ouvert au Maroc.",
            "",
        ]
        out += [
            "Le taux d'avancement du plan d'action est calculé sur la base de la moyenne pondérée de l'avancement "
            "des activités liées à chaque engagement, en tenant compte du poids de chaque activité.",
            "",
            "Remarque : Le classement des activités sur la plateforme est effectué directement par les chefs de "
            "projet, juste après l'approbation et la publication du plan d'action national.",
            "",
        ]

    def rate_table(self, commitments: list[dict]) -> None:
        rng = self.rng
        out = self.items
        header = "Numéro de l'engagement\tTitre de l'engagement\tTaux de réalisation"
        out += ["Taux d'avancement par engagement", "", header]
        since_break, page_size = 0, rng.randint(6, 18)
        for c in commitments:
            if since_break == page_size:
                out += [_Gap(PAGE_BREAK), header]
                since_break = 0
            title = reword(rng, c["_sentence_title"])
            rate = c["published_rate_pct"]
            cell = "" if rate is None else f"{rate}{rng.choice((' %', ' %', '%'))}"
            cut = split_for_wrap(title, rng, need_lower=False) if len(title) > 80 and rng.random() < 0.3 else None
            if cut:
                out += [f"{c['commitment_no']}\t{cut[0]}\t{cell}", f"\t{cut[1]}\t"]
            else:
                out.append(f"{c['commitment_no']}\t{title}\t{cell}")
            since_break += 1


def _replace_checklist(body_status: list, checklist: list[str], words: str) -> list:
    """The activity's status block with its checklist lines replaced by one line in words."""
    out, placed = [], False
    for piece in body_status:
        if isinstance(piece, str) and piece in checklist:
            if not placed:
                out.append(words)
                placed = True
            continue
        out.append(piece)
    return out


def wrap_text(text: str, width: int) -> list[str]:
    """Greedy word wrap; a last line of fewer than three words joins the previous one."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        if lines and len(current.split(" ")) < 3:
            lines[-1] = f"{lines[-1]} {current}"
        else:
            lines.append(current)
    return lines


# --- public API -----------------------------------------------------------------------------


def generate_report(
    rng: random.Random, report_id: str, damage_rate: float, *, drift=(), drift_rate: float = DEFAULT_DRIFT_RATE
) -> tuple[str, dict]:
    """One synthetic report and its ground truth.

    Args:
        rng: the only source of randomness of the content (same state, same report).
        report_id: lowercase letters, digits and '-'; a ``pan-YYYY-YYYY`` part sets the plan period.
        damage_rate: probability of each damage kind on each activity or commitment it can hit.
        drift: kinds of layout drift to put in (:data:`DRIFT_KINDS`); none by default. Drift
            is drawn from a stream of its own: the same ``rng`` gives the same content.
        drift_rate: probability of each drift kind on each unit it can hit.

    Returns:
        ``(text, truth)``: the file's text (a leading BOM character when the truth's encoding
        is ``utf-8-sig``, line endings as its ``line_ending`` says) and the truth dictionary.
    """
    return _ReportBuilder(rng, report_id, damage_rate, drift, drift_rate).build()


def report_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"pgo-synth:{seed}:{index}")


def report_id_for(rng: random.Random, index: int) -> str:
    start, end = rng.choice(PERIODS)
    return f"synth-{index:04d}-pan-{start}-{end}"


def write_reports(
    out_dir: Path, n: int, seed: int, damage_rate: float, *, drift=(), drift_rate: float = DEFAULT_DRIFT_RATE
) -> list[Path]:
    """Write ``n`` reports and their truth files into ``out_dir``; return the report paths.

    ``drift`` and ``drift_rate`` as :func:`generate_report` takes them (no drift by default).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(1, n + 1):
        rng = report_rng(seed, index)
        report_id = report_id_for(rng, index)
        text, truth = generate_report(rng, report_id, damage_rate, drift=drift, drift_rate=drift_rate)
        path = out_dir / f"{report_id}.txt"
        write_bytes_atomic(path, text.encode("utf-8"))
        truth_json = json.dumps(truth, ensure_ascii=False, indent=1) + "\n"
        write_bytes_atomic(out_dir / f"{report_id}.truth.json", truth_json.encode("utf-8"))
        paths.append(path)
    return paths


# --- a later report of the same plan ----------------------------------------------------

#: Status order of a plan's successive reports (``unknown`` is outside it).
STATUS_ORDER = ("not_started", "limited", "substantial", "complete")
#: A retitled activity's new title stays below this similarity to the old one
#: (:data:`pipeline.compute.TITLE_MATCH_THRESHOLD` is 0.85: the pair is left unmatched).
RETITLE_MAX_SIMILARITY = 0.7


def _title_similarity(a: str, b: str) -> float:
    """DuckDB's jaro_winkler_similarity of the lower-cased titles (the compute stage's measure)."""
    import duckdb

    with duckdb.connect(":memory:") as con:
        return con.execute("SELECT jaro_winkler_similarity(lower(trim(?)), lower(trim(?)))", [a, b]).fetchone()[0]


def _movement(before: str, after: str) -> str:
    if before not in STATUS_ORDER or after not in STATUS_ORDER:
        return "unknown"
    b, a = STATUS_ORDER.index(before), STATUS_ORDER.index(after)
    return "advanced" if a > b else "stalled" if a == b else "went_back"


class _FollowupBuilder(_ReportBuilder):
    """A later report of the plan of ``earlier`` (its truth): the same commitments and
    activities, some statuses advanced, one or two gone back, one activity retitled, one
    dropped. No damage and no drift: every status is read as written."""

    def __init__(self, rng: random.Random, report_id: str, earlier: dict, months_later: int | None = None):
        super().__init__(rng, report_id, 0.0)
        self.start, self.end = (int(y) for y in earlier["plan_period"].split("-"))
        self.period = earlier["plan_period"]
        year, month = (int(x) for x in earlier["as_of"].split("-"))
        months = year * 12 + month - 1 + (months_later if months_later else rng.randint(3, 12))
        self.as_of_year, self.as_of_month = divmod(months, 12)
        self.as_of_month += 1
        self.earlier = earlier
        self.plan = {c["commitment_no"]: [dict(a) for a in c["activities"]] for c in earlier["commitments"]}
        self.followup = self.plan_changes()

    def plan_changes(self) -> dict:
        rng = self.rng
        changes: dict = {"earlier_report_id": self.earlier["report_id"], "dropped": [], "retitled": []}
        droppable = [no for no, acts in self.plan.items() if len(acts) >= 2]
        if droppable:
            no = rng.choice(droppable)
            a = self.plan[no].pop()
            changes["dropped"].append({"commitment_no": no, "activity_no": a["activity_no"], "title": a["title"]})
        every = [(no, a) for no, acts in self.plan.items() for a in acts]
        if len(every) >= 2:
            no, a = rng.choice(every)
            while True:
                title = self.activity_title()
                if _title_similarity(title, a["title"]) < RETITLE_MAX_SIMILARITY:
                    break
            changes["retitled"].append(
                {
                    "commitment_no": no,
                    "activity_no": a["activity_no"],
                    "earlier_title": a["title"],
                    "later_title": title,
                }
            )
            a["title"] = title
            a["_retitled"] = True
        kept = [(no, a) for no, a in every if not a.get("_retitled")]
        backable = [(no, a) for no, a in kept if a["status"] in STATUS_ORDER[1:]]
        back = rng.sample(backable, min(len(backable), rng.choice((1, 2))))
        for _, a in back:
            a["status"] = rng.choice(STATUS_ORDER[: STATUS_ORDER.index(a["status"])])
            a["_moved"] = True
        movable = [(no, a) for no, a in kept if not a.get("_moved") and a["status"] in STATUS_ORDER[:-1]]
        for i, (_, a) in enumerate(movable):
            if i == 0 or rng.random() < 0.5:
                a["status"] = rng.choice(STATUS_ORDER[STATUS_ORDER.index(a["status"]) + 1 :])
        return changes

    def plan_titles(self) -> list[str]:
        titles = []
        for c in self.earlier["commitments"]:
            lower = c["title"].lower()
            titles.append(lower[:1].upper() + lower[1:])
        return titles

    def layout_parts(self, n: int) -> tuple[bool, bool, bool]:
        super().layout_parts(n)
        layout = self.earlier["layout"]
        return layout["toc"], layout["axes_section"], layout["rate_table"]

    def activity_statuses(self, no: int) -> list[str]:
        return [a["status"] for a in self.plan[no]] or [STATUS_ORDER[0]]

    def planned_activity_title(self, no: int, k: int) -> str:
        return self.plan[no][k - 1]["title"] if k <= len(self.plan[no]) else self.activity_title()

    def build(self) -> tuple[str, dict]:
        text, truth = super().build()
        before = {
            (c["commitment_no"], a["activity_no"]): a for c in self.earlier["commitments"] for a in c["activities"]
        }
        retitled = {(r["commitment_no"], r["activity_no"]) for r in self.followup["retitled"]}
        transitions = []
        for c in truth["commitments"]:
            for a in c["activities"]:
                key = (c["commitment_no"], a["activity_no"])
                if key in before and key not in retitled:
                    status_before = before[key]["status"]
                    transitions.append({
                        "commitment_no": key[0], "activity_no": key[1], "status_before": status_before,
                        "status_after": a["status"], "movement": _movement(status_before, a["status"]),
                    })  # fmt: skip
        truth["followup"] = {**self.followup, "transitions": transitions}
        return text, truth


def generate_followup(
    rng: random.Random, report_id: str, earlier: dict, *, months_later: int | None = None
) -> tuple[str, dict]:
    """A later report of the same plan as ``earlier`` (another report's truth), and its truth.

    Same ``plan_period``, an ``as_of`` ``months_later`` months after the earlier one's
    (default 3 to 12, drawn), the same commitments and activities with some statuses
    advanced, one or two gone back, one activity retitled (its new title below
    :data:`RETITLE_MAX_SIMILARITY` of the old one) and one dropped (the last of its
    commitment). No damage, no drift. ``report_id`` must name the same period
    (``pan-YYYY-YYYY``) or none. The truth is a report's truth plus ``followup``:
    ``earlier_report_id``, ``dropped``, ``retitled`` (``earlier_title``, ``later_title``)
    and ``transitions`` (``commitment_no``, ``activity_no``, ``status_before``,
    ``status_after``, ``movement``: advanced, stalled, went_back or unknown), the rows
    ``activity_transitions`` must hold for this pair of reports.
    """
    return _FollowupBuilder(rng, report_id, earlier, months_later).build()


def write_followup(out_dir: Path, earlier_truth: Path, seed: int) -> Path:
    """Write the follow-up of the report whose truth file is ``earlier_truth`` (and its
    truth) into ``out_dir``, as ``<earlier report_id>-suivi``; return the report's path."""
    earlier = json.loads(Path(earlier_truth).read_text(encoding="utf-8"))
    report_id = f"{earlier['report_id']}-suivi"
    text, truth = generate_followup(random.Random(f"pgo-synth-followup:{seed}:{report_id}"), report_id, earlier)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report_id}.txt"
    write_bytes_atomic(path, text.encode("utf-8"))
    truth_json = json.dumps(truth, ensure_ascii=False, indent=1) + "\n"
    write_bytes_atomic(out_dir / f"{report_id}.truth.json", truth_json.encode("utf-8"))
    return path
