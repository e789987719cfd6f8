"""The core below every feature: clock, text, errors, column types, form helpers, the request's transaction,
access checks, response headers, the database-fault page and template filters. It imports no feature."""
