"""Which questions are not in English: careerbot's knowledge and model are English only, so such a
question gets a short reply saying so instead of a poor match or a silent decline.

py3langid (a pretrained character n-gram classifier shipped in its wheel) decides. It is limited to
widely used languages, because among all 97 it calls short English questions Pidgin or Latin; and it
must be sure, because short keyword questions ("k8s?", "pytorch vs tf") carry little signal. Chosen on
the dev and regression sets and every FAQ phrasing: no English question flagged, every other caught."""

from __future__ import annotations

import functools
import threading
from typing import Any

ENGLISH = "en"
LANGUAGES = (
    "en", "es", "pt", "fr", "de", "it", "nl", "pl", "cs", "ro", "hu", "sv", "da", "no", "fi", "el", "tr",
    "ru", "uk", "vi", "id", "zh", "ja", "ko", "ar", "fa", "he", "hi", "bn", "ur", "ta", "te", "th",
)  # fmt: skip
SURE = 0.8  # the classifier's probability for a language other than English


def language_of(question: str) -> str:
    """The question's language code: "en" unless the classifier is sure it is another language."""
    language, probability = _identifier().classify(question)
    return str(language) if language != ENGLISH and probability >= SURE else ENGLISH


def load_in_background() -> None:
    """Loads the classifier (about 0.6 s) off the caller's thread, so the first question does not wait."""
    threading.Thread(target=_identifier, name="careerbot-language", daemon=True).start()


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier
