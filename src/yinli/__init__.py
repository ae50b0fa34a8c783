"""yinli (引力): a user-first content-commerce platform."""

__version__ = "0.1.0"
