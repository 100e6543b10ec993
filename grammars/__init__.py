"""Lark grammars, shipped as package data (``gipextract.grammars``)."""
