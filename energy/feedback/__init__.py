"""Feedback on a household's own meter data: the periods it covers and the figures it shows."""
