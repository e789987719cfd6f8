"""After the letter: visits, answers per request item and addressee, grades, the dashboard, carry-over."""
