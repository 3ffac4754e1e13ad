"""The legal due date of a subject access request (UK GDPR Article 12(3), as the ICO
reads it): one calendar month, starting on the day the request is received.

- the due date is the corresponding calendar date in the next month (received
  3 September: due 3 October);
- when the next month has no corresponding date, it is the last day of that month
  (received 31 March: due 30 April);
- when the date falls on a Saturday or Sunday, it is the next working day. Bank holidays
  are not known to dataward: a due date on one moves by hand (``sar open --due``).
"""
from __future__ import annotations

import calendar
from datetime import date, timedelta


def one_calendar_month(received: date) -> date:
    year, month = (received.year + 1, 1) if received.month == 12 else (received.year, received.month + 1)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(received.day, last))


def due_date(received: date) -> date:
    due = one_calendar_month(received)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    return due
