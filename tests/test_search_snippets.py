from search.snippets import Snippeter, plain

BODY = ("La coopération entre les régions progresse.\n\n" + "Texte neutre sans intérêt. " * 20 +
        "Les coopérations économiques d’Asie-Pacifique <b>gras</b> & co.")


def test_marks_inflected_and_accented_forms():
    s = Snippeter(size=120)
    html = s.snippet(BODY, "", "fr", frozenset({"cooperation", "economiqu"}), ())
    assert "<mark>coopérations</mark>" in html and "<mark>économiques</mark>" in html
    assert "<mark>coopération</mark>" in s.snippet(BODY[:60], "", "fr", frozenset({"cooperation"}))
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_fragments_cut_at_word_boundaries_and_limited():
    s = Snippeter(size=80, max_fragments=3)
    frags = s.fragments(BODY, "fr", frozenset({"cooperation", "economiqu", "asi"}))
    assert 1 <= len(frags) <= 3
    for f in frags:
        text = plain(f).strip("… ")
        assert len(text) <= 90


def test_title_then_lead_when_body_does_not_match():
    s = Snippeter()
    title = s.snippet("rien ici", "Coopération", "fr", frozenset({"cooperation"}))
    assert title == "<mark>Coopération</mark>"
    assert s.snippet("rien <ici>", "titre", "fr", frozenset({"zzz"})) == "rien &lt;ici&gt;"
