"""Constants shared by every part of the sample company."""

START = "2023-01-01"
END = "2025-12-31"
CHANNELS = ["search", "social", "email", "affiliate", "display"]
REGIONS = ["North", "South", "East", "West"]
