"""Headquarters' reading of the opinions: counts per stance, dispositions, answer tables, exports."""
