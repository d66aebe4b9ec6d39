"""Repairs: the repair order of a repair case, its quotes, work log, quality check and hand-back."""
