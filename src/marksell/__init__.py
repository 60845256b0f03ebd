"""marksell: notebooks and tested helpers for the Market and Sell process area."""

__version__ = "0.1.0"
