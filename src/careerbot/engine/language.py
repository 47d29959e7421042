"""Which questions are not in English: careerbot's knowledge and model are English only, so such a
question gets a short reply saying so instead of a poor match or a silent decline.

py3langid (a pretrained character n-gram classifier shipped in its wheel) decides. It is limited to
widely used languages, because among all 97 it calls short English questions Pidgin or Latin; and it
must be sure, because short keyword questions ("k8s?", "pytorch vs tf") carry little signal. Chosen on
the dev and regression sets and every FAQ phrasing: no English question flagged, every other caught."""

from __future__ import annotations

import functools
import re
from typing import Any

ENGLISH = "en"
LANGUAGES = (
    "en", "es", "pt", "fr", "de", "it", "nl", "pl", "cs", "ro", "hu", "sv", "da", "no", "fi", "el", "tr",
    "ru", "uk", "vi", "id", "zh", "ja", "ko", "ar", "fa", "he", "hi", "bn", "ur", "ta", "te", "th",
)  # fmt: skip
SURE = 0.8  # the classifier's probability for a language other than English


# Plain ASCII with two of these words is English without asking the classifier: 518 of the 556 English
# eval questions, and none of the 30 in other languages. The classifier costs 0.5 s and about 100 MB when
# it first loads, so most processes never load it.
ENGLISH_WORDS = frozenset((
    "the", "a", "an", "to", "is", "are", "i", "you", "and", "of", "in", "for", "how", "what", "do", "does",
    "my", "it", "on", "with", "can", "should", "be", "as", "or", "if", "that", "this", "me", "have", "which",
    "why", "when", "get", "at", "from", "not", "there", "would", "will", "your", "any", "am",
))  # fmt: skip
WORD = re.compile(r"[a-z']+")


def language_of(question: str) -> str:
    """The question's language code: "en" unless the classifier is sure it is another language."""
    if question.isascii() and len(ENGLISH_WORDS.intersection(WORD.findall(question.lower()))) >= 2:
        return ENGLISH
    language, probability = _identifier().classify(question)
    return str(language) if language != ENGLISH and probability >= SURE else ENGLISH


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier
