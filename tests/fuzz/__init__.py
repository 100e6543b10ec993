"""The fuzz harness of every reader (see harness.py)."""
