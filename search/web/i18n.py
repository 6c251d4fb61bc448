"""Interface text of the web page in English and French, and the choice between them."""

from __future__ import annotations

UI_LANGS = ("en", "fr")
DEFAULT_UI = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "Search press statements in French and English",
        "skip": "Skip to results",
        "search_label": "Search statements",
        "search_placeholder": "e.g. caribou, COVID-19, \"climate change\"",
        "search_button": "Search",
        "ui_switch": "Français",
        "ui_switch_title": "Afficher l’interface en français",
        "total_one": "1 statement",
        "total_many": "{n} statements",
        "total_none": "No statement matches your search.",
        "page_of": "page {page} of {pages}",
        "did_you_mean": "Did you mean",
        "showing_results_for": "Showing results for",
        "mode_any": "No statement contains all of your words; showing statements that contain some of them.",
        "other_languages": "In other languages:",
        "other_language_one": "1 statement in {lang}",
        "other_language_many": "{n} statements in {lang}",
        "sort": "Sort by",
        "sort_relevance": "relevance",
        "sort_date": "newest first",
        "filters": "Refine",
        "filters_jump": "Refine results",
        "active_filters": "Active filters",
        "remove_filter": "Remove filter",
        "clear_filters": "Clear all filters",
        "facet_lang": "Language",
        "facet_source": "Source",
        "facet_year": "Year",
        "date_range": "Date range",
        "since": "From",
        "until": "To",
        "apply": "Apply",
        "exclude": "Exclude",
        "excluded": "excluded",
        "include_again": "Include again",
        "is_not": "is not",
        "lang_choice": "Languages",
        "lang_both": "Both",
        "histogram_month": "Matches by month",
        "histogram_year": "Matches by year",
        "last_7d": "Last 7 days",
        "last_30d": "Last 30 days",
        "last_12m": "Last 12 months",
        "last_other": "Last {value}",
        "results": "Results",
        "related": "Related statements",
        "related_to": "Statements related to",
        "related_none": "No statement is similar enough to this one.",
        "read": "Read the text",
        "next_match": "Next match",
        "media_contacts": "Media contacts",
        "related_links": "Related links",
        "matches_for": "{n} matches for “{q}”: go to the first",
        "match_for": "1 match for “{q}”: go to it",
        "no_match_here": "“{q}” is not in this version's text.",
        "release": "Release",
        "original": "Original page",
        "no_url": "no public address",
        "duplicates": "Also published by",
        "also_in_en": "Also in English",
        "also_in_fr": "Also in French",
        "also_in_other": "Also in another language",
        "pagination": "Result pages",
        "previous": "Previous",
        "next": "Next",
        "feed": "Follow this search (Atom feed)",
        "feed_title": "presse: {q}",
        "feed_title_all": "presse: latest statements",
        "feed_subtitle": "New statements matching “{q}”, newest first",
        "feed_subtitle_all": "The newest statements in the index",
        "api": "This search as JSON",
        "export": "Every match as",
        "welcome": "Type a few words to search all statements. Accents and capitals do not matter: "
                   "“ete” finds “été”. Put a phrase in quotes.",
        "latest": "Latest statements",
        "back": "Back to search",
        "date_unknown": "date unknown",
        "lang_en": "English",
        "lang_fr": "French",
        "footer": "presse: full-text search of press statements. Works without JavaScript; every page has "
                  "a shareable address.",
        "error_title": "Something is wrong with this request",
        "not_found": "Page not found",
        "not_found_text": "There is no page at this address.",
        "statement_not_found": "There is no statement with this identifier in the index.",
        "server_error": "The search failed. Please try again in a moment.",
        "bad_host": "This server does not answer to the host name “{host}” (a protection against DNS "
                    "rebinding). To allow it, start presse serve with --allow-host {name}",
        "bad_date": "“{value}” is not a date; use YYYY, YYYY-MM or YYYY-MM-DD (for example 2020-03-15).",
        "bad_range": "The start date {since} is after the end date {until}.",
        "bad_sort": "Sort must be “relevance” or “date”, not “{value}”.",
        "bad_int": "“{name}” must be a whole number between {lo} and {hi}, not “{value}”.",
        "bad_query": "The search text is too long ({n} characters; at most {max}).",
        "bad_param": "“{name}” is not valid: {value}",
        "bad_search": "This search cannot be run: {reason}",
        "searching": "Searching…",
    },
    "fr": {
        "tagline": "Recherche dans les communiqués de presse, en français et en anglais",
        "skip": "Aller aux résultats",
        "search_label": "Rechercher dans les communiqués",
        "search_placeholder": "p. ex. caribou, COVID-19, « changement climatique »",
        "search_button": "Rechercher",
        "ui_switch": "English",
        "ui_switch_title": "Show the interface in English",
        "total_one": "1 communiqué",
        "total_many": "{n} communiqués",
        "total_none": "Aucun communiqué ne correspond à votre recherche.",
        "page_of": "page {page} sur {pages}",
        "did_you_mean": "Vouliez-vous dire",
        "showing_results_for": "Résultats pour",
        "mode_any": "Aucun communiqué ne contient tous vos mots ; voici ceux qui en contiennent une partie.",
        "other_languages": "Dans d’autres langues :",
        "other_language_one": "1 communiqué en {lang}",
        "other_language_many": "{n} communiqués en {lang}",
        "sort": "Trier par",
        "sort_relevance": "pertinence",
        "sort_date": "plus récents",
        "filters": "Affiner",
        "filters_jump": "Affiner les résultats",
        "active_filters": "Filtres actifs",
        "remove_filter": "Retirer le filtre",
        "clear_filters": "Retirer tous les filtres",
        "facet_lang": "Langue",
        "facet_source": "Source",
        "facet_year": "Année",
        "date_range": "Période",
        "since": "Du",
        "until": "Au",
        "apply": "Appliquer",
        "exclude": "Exclure",
        "excluded": "exclu",
        "include_again": "Inclure à nouveau",
        "is_not": "n’est pas",
        "lang_choice": "Langues",
        "lang_both": "Les deux",
        "histogram_month": "Résultats par mois",
        "histogram_year": "Résultats par année",
        "last_7d": "7 derniers jours",
        "last_30d": "30 derniers jours",
        "last_12m": "12 derniers mois",
        "last_other": "Derniers {value}",
        "results": "Résultats",
        "related": "Communiqués apparentés",
        "related_to": "Communiqués apparentés à",
        "related_none": "Aucun communiqué n’est assez proche de celui-ci.",
        "read": "Lire le texte",
        "next_match": "Occurrence suivante",
        "media_contacts": "Relations avec les médias",
        "related_links": "Liens connexes",
        "matches_for": "{n} occurrences de « {q} » : aller à la première",
        "match_for": "1 occurrence de « {q} » : y aller",
        "no_match_here": "« {q} » n’apparaît pas dans le texte de cette version.",
        "release": "Communiqué no",
        "original": "Page d’origine",
        "no_url": "pas d’adresse publique",
        "duplicates": "Aussi publié par",
        "also_in_en": "Aussi en anglais",
        "also_in_fr": "Aussi en français",
        "also_in_other": "Aussi dans une autre langue",
        "pagination": "Pages de résultats",
        "previous": "Précédente",
        "next": "Suivante",
        "feed": "Suivre cette recherche (flux Atom)",
        "feed_title": "presse : {q}",
        "feed_title_all": "presse : derniers communiqués",
        "feed_subtitle": "Nouveaux communiqués pour « {q} », du plus récent au plus ancien",
        "feed_subtitle_all": "Les communiqués les plus récents de l’index",
        "api": "Cette recherche en JSON",
        "export": "Tous les résultats en",
        "welcome": "Tapez quelques mots pour chercher dans tous les communiqués. Accents et majuscules "
                   "n’ont pas d’importance : « ete » trouve « été ». Mettez une expression entre guillemets.",
        "latest": "Derniers communiqués",
        "back": "Retour à la recherche",
        "date_unknown": "date inconnue",
        "lang_en": "anglais",
        "lang_fr": "français",
        "footer": "presse : recherche plein texte dans les communiqués de presse. Fonctionne sans "
                  "JavaScript ; chaque page a une adresse à partager.",
        "error_title": "Cette demande pose un problème",
        "not_found": "Page introuvable",
        "not_found_text": "Il n’y a pas de page à cette adresse.",
        "statement_not_found": "Aucun communiqué de l’index ne porte cet identifiant.",
        "server_error": "La recherche a échoué. Veuillez réessayer dans un instant.",
        "bad_host": "Ce serveur ne répond pas au nom d’hôte « {host} » (une protection contre le DNS "
                    "rebinding). Pour l’autoriser, lancez presse serve avec --allow-host {name}",
        "bad_date": "« {value} » n’est pas une date ; utilisez AAAA, AAAA-MM ou AAAA-MM-JJ (par exemple "
                    "2020-03-15).",
        "bad_range": "La date de début {since} est postérieure à la date de fin {until}.",
        "bad_sort": "Le tri doit être « relevance » ou « date », pas « {value} ».",
        "bad_int": "« {name} » doit être un nombre entier entre {lo} et {hi}, pas « {value} ».",
        "bad_query": "Le texte recherché est trop long ({n} caractères ; au plus {max}).",
        "bad_param": "« {name} » n’est pas valide : {value}",
        "bad_search": "Cette recherche ne peut pas être lancée : {reason}",
        "searching": "Recherche…",
    },
}

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
}


def choose_ui(param: str | None, cookie: str | None, accept_languages) -> str:
    """The interface language: ?ui= wins, then the cookie, then the browser's Accept-Language."""
    for value in (param, cookie):
        if value in UI_LANGS:
            return value
    best = accept_languages.best_match(UI_LANGS) if accept_languages else None
    return best or DEFAULT_UI


def format_date(iso: str, ui: str) -> str:
    """'2020-03-15' -> 'March 15, 2020' / '15 mars 2020'; other text is returned as is."""
    try:
        year, month, day = (int(part) for part in iso[:10].split("-"))
        name = MONTHS[ui][month - 1]
    except (ValueError, IndexError, AttributeError):
        return iso or ""
    if ui == "fr":
        return f"{'1er' if day == 1 else day} {name} {year}"
    return f"{name} {day}, {year}"


def format_number(n: int, ui: str) -> str:
    text = f"{n:,}"
    return text.replace(",", "\u202f") if ui == "fr" else text
