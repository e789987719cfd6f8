"""Consultation rounds run by headquarters."""
