"""Marking text for translation where it is translated later, not where it is written."""


def N_(message: str) -> str:
    """Mark `message` for extraction; it is stored or passed untranslated and translated
    when shown (in the reader's language, which a job or webhook does not know)."""
    return message
