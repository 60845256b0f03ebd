"""Generators of the embedded sample company (one module per input kind)."""
