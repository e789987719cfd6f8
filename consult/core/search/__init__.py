"""Search and similarity for answering many opinions: pure functions and an index, no app models.

- `fold`: Japanese-aware normal form (width, case, kana, long vowels) and highlighting of the original text;
- `index`: a full-text index of folded documents on SQLite (FTS5) and PostgreSQL (pg_trgm), in the caller's
  transaction;
- `similarity`: groups of similar opinions and "opinions like this one".
"""
