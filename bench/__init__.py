"""`make bench`: the figures of issue 14 beside their floors (see bench/harness.py)."""
