"""Stopwords, stored folded (no accents, lower case) because they are checked after folding.

French: the Snowball French list plus common elided and interrogative forms found in questions, and "elles"
(Snowball has "elle" and "ils", not "elles": "sont-elles" left a term "elle" in questions).
English: the Snowball English list.
"""

from unidecode import unidecode

_FRENCH = """
au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même mes moi mon ne
nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous
c d j l à m n s t y été étée étées étés étant étante étants étantes suis es est sommes êtes sont serai seras
sera serons serez seront serais serait serions seriez seraient étais était étions étiez étaient fus fut fûmes
fûtes furent sois soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant ayante ayantes
ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais aurait aurions auriez
auraient avais avait avions aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient eusse eusses
eût eussions eussiez eussent ceci cela celà cet cette ici ils les leurs quel quels quelle quelles sans soi
où qu jusqu lorsqu puisqu quoiqu est-ce comment quoi quand dont elles
"""

_ENGLISH = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
herself it its itself they them their theirs themselves what which who whom this that these those am is are
was were be been being have has had having do does did doing would should could ought i'm you're he's she's
it's we're they're i've you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll
they'll isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't shan't
shouldn't can't cannot couldn't mustn't let's that's who's what's here's there's when's where's why's how's
a an the and but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same so than too very
"""


def _folded(words: str) -> frozenset[str]:
    return frozenset(unidecode(w).lower().replace("'", "") for w in words.split())


FRENCH_STOPWORDS = _folded(_FRENCH)
ENGLISH_STOPWORDS = _folded(_ENGLISH)
