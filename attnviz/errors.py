"""The errors attnviz raises on purpose: each message says what went wrong and how to fix it."""


class AttnvizError(Exception):
    """A problem with the user's input or environment (exit code 1), not a bug."""


class InputError(AttnvizError):
    """The text or an option value cannot be used."""


class TokenizerError(AttnvizError):
    """A tokenizer could not be loaded or used."""


class WeightsError(AttnvizError):
    """A weight file is missing, unreadable, or does not fit the model."""


class OutputError(AttnvizError):
    """An output file could not be written."""


class ModelError(AttnvizError):
    """A checkpoint is missing, incomplete, unreadable, or not a supported architecture."""
