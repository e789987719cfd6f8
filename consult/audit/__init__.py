"""The audit log: who did what, when, to which round, answer or letter."""
