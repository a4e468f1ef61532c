"""Persona and knowledge files: reading and validating them, with plain-language errors."""
