"""Notices: a transactional outbox of e-mails and inbox entries, reminders before the deadline, and preferences.

models.py     the notice rows (one per recipient and event), preferences, reminder schedules and what was sent
receivers.py  the receivers connected to the lower features' signals: they write notice rows in the same
              transaction as the change (a rolled-back change notifies no one)
operations.py queueing notices, reminders, reading, preferences, unsubscribing
delivery.py   building the Japanese e-mail (text + HTML) and sending it by SMTP (smtplib + email)
runner.py     `consult notify`: claim what is due (FOR UPDATE SKIP LOCKED / BEGIN IMMEDIATE), send, mark
"""
