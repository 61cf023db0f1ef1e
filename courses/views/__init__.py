"""Ward and prescribing pages: Today, courses, the prescribe form, patients (issue 6)."""
