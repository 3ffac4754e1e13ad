"""The school's mail rules applied to one extracted message or mail container.

- Audience: ``external-mail`` when any recipient (to, cc, bcc) is outside
  ``school.domains`` (a sub-domain of a school domain is inside), else ``internal-mail``.
  A message attached to an external message stays external: it travelled with it.
  With no domains configured every recipient counts as outside (the safe reading).
  Attachments inherit their message's audience, so personal data sent outside in a body
  or an unencrypted attachment is an item with findings and audience ``external-mail``.
- Retention: a message older than ``mail.retention_days`` gets a note saying so.
- Protection: attachments encrypted as a whole (AES zip, OpenPGP, S/MIME) are items with
  status ``encrypted`` (set by the extractor); a weak ZipCrypto zip says it is weak.
- Size: attachments over ``mail.max_attachment_mb`` become ``skipped`` items, not read.
- Damage: structural MIME damage makes the message ``error`` (what could be read was
  scanned and its findings kept); lesser oddities (an unknown charset) are notes.

Notes and reasons go to the item's ``error`` column (for an ``ok`` item they are notes).
None of them quotes message text, addresses or names."""
from __future__ import annotations

from datetime import UTC, datetime

from ..classifiers.extractors.base import Extracted, Member
from ..classifiers.extractors.mail_message import MailExtracted, MessageInfo
from ..settings import Settings
from .item_row import ItemRow

EXTERNAL, INTERNAL = "external-mail", "internal-mail"


def is_internal(domain: str, school_domains: list[str]) -> bool:
    domain = domain.lower().rstrip(".")
    for d in school_domains:
        d = d.lower().strip().lstrip("@").rstrip(".")
        if d and (domain == d or domain.endswith("." + d)):
            return True
    return False


def apply_mail_policy(doc: Extracted, row: ItemRow, settings: Settings,
                      now: datetime | None = None) -> None:
    """Set ``row``'s audience, status and notes from ``doc``, and cap its attachments."""
    if not isinstance(doc, MailExtracted):
        return
    notes: list[str] = []
    if doc.status and doc.status != "ok":
        row.status = doc.status
    if doc.reason:
        notes.append(doc.reason)
    if doc.info is not None:
        notes.extend(_message_rules(doc.info, row, settings, now or datetime.now(UTC)))
    _cap_attachments(doc, settings)
    if notes:
        row.error = "; ".join([row.error] + notes if row.error else notes)


def _message_rules(info: MessageInfo, row: ItemRow, settings: Settings, now: datetime) -> list[str]:
    notes: list[str] = []
    if info.damaged:
        row.status = "error"
        notes.append("damaged message: " + ", ".join(info.problems)
                     + " (what could be read was scanned)")
    elif info.problems:
        notes.extend(info.problems)
    outside = [d for d in info.recipient_domains if not is_internal(d, settings.school.domains)]
    external = bool(outside) or row.audience == EXTERNAL
    row.audience = EXTERNAL if external else INTERNAL
    if outside:
        notes.append(f"sent outside the school: {len(outside)} of "
                     f"{len(info.recipient_domains)} recipients")
    if info.protected_attachments:
        notes.append(f"{info.protected_attachments} protected (encrypted) part(s)")
    days = settings.mail.retention_days
    if days and info.date is not None:
        age = (now - info.date).days
        if age > days:
            notes.append(f"older than the {days}-day mail retention ({age} days old)")
    return notes


def _cap_attachments(doc: MailExtracted, settings: Settings) -> None:
    if doc.info is None:
        return  # a container's members are messages, capped by the file size limit
    cap_mb = settings.mail.max_attachment_mb
    cap = int(cap_mb * 1024 * 1024)
    for i, m in enumerate(doc.children):
        if m.data is not None and len(m.data) > cap:
            doc.children[i] = Member(m.name, None, sep=m.sep, status="skipped",
                                     error=f"attachment larger than the {cap_mb:g} MB mail cap",
                                     size=len(m.data), mtime_ns=m.mtime_ns, audience=m.audience)
