"""Draw the disposal certificate as a PDF (reportlab) from the same dict as the JSON
twin, so the two always say the same thing."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)


def _fonts() -> tuple[str, str]:
    """A Unicode TrueType font (names need more than Latin-1); reportlab ships Vera."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    import reportlab

    if "DWSans" in pdfmetrics.getRegisteredFontNames():
        return "DWSans", "DWSans-Bold"
    bundled = Path(reportlab.__file__).parent / "fonts"
    pairs = [*_FONT_CANDIDATES, (str(bundled / "Vera.ttf"), str(bundled / "VeraBd.ttf"))]
    for regular, bold in pairs:
        if os.path.exists(regular) and os.path.exists(bold):
            pdfmetrics.registerFont(TTFont("DWSans", regular))
            pdfmetrics.registerFont(TTFont("DWSans-Bold", bold))
            return "DWSans", "DWSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _yes_no(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v) if v not in (None, "") else "-"


def _sections(c: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    a, au, s, d = c["asset"], c["authorisation"], c["sanitization"], c["disposal"]
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("Certificate", [("Certificate ID", c["certificate_id"]), ("School", c["school"]),
                         ("Issued", c["issued"]), ("Format", c["format"])]),
        ("Asset", [("Asset tag", a["tag"]), ("Type", a["type"]), ("Make", a["make"]),
                   ("Model", a["model"]), ("Serial number", a["serial"]),
                   ("Location", a["location"]), ("Purchase date", a["purchase_date"]),
                   ("Storage media", _yes_no(a["has_storage"]))]),
        ("Authorisation", [("Authorised by", au["authorised_by"]),
                           ("Personal data likely held", au["personal_data_likely_held"]),
                           ("Software licensing verified",
                            _yes_no(au["software_licensing_verified"])),
                           ("Data backed up", au["data_backed_up"])]),
    ]
    for i, m in enumerate(c["media"], 1):
        sections.append((f"Media {i} (NIST SP 800-88 media information)", [
            ("Make/vendor", m["make"]), ("Model", m["model"]),
            ("Media serial number", m["serial"]), ("Media type", m["media_type"]),
            ("Source", m["source"]), ("Erasure result", m["erasure_result"])]))
    sections.append(("Sanitization", [
        ("Method type", s["method_type"]), ("Technique", s["technique"]),
        ("Method details", s["method_details"]), ("Tool used (version)", s["tool"]),
        ("Verification method", s["verification_method"]),
        ("Post-sanitization classification", s["post_sanitization_classification"]),
        ("Notes", s["notes"])]))
    for i, w in enumerate(c["erasure_results"], 1):
        sections.append((f"Erasure result {i} (from the wipe log)", [
            ("Device", w["device"]), ("Model", w["model"]), ("Drive serial", w["serial"]),
            ("Tool", w["tool"]), ("Wipe method", w["method"]),
            ("Verification", w["verification"]), ("Passes", str(w["passes"])),
            ("Final blanking pass", _yes_no(w["blanked"])), ("Drive status", w["status"]),
            ("Errors (pass/verify/sync)",
             f"{w['pass_errors']}/{w['verification_errors']}/{w['sync_errors']}"),
            ("Started", w["started"]), ("Finished", w["finished"]),
            ("Result", w["result"]), ("Evidence SHA-256", w["evidence_sha256"])]))
    sections.append(("Disposal and media destination", [
        ("Date disposed", d["date"]), ("Route", d["route"]), ("Recipient", d["recipient"]),
        ("Media destination", d["media_destination"]),
        ("Recipient's receipt SHA-256", d["recipient_receipt_sha256"]),
        ("PAT test date", d["pat_test_date"]),
        ("WEEE waste transfer note", d["weee_transfer_note"])]))
    for i, e in enumerate(c["evidence"], 1):
        sections.append((f"Evidence {i}", [
            ("File", e["file_name"]), ("Kind", f"{e['kind']} ({e['role']})"),
            ("Size (bytes)", str(e["size"])), ("SHA-256", e["sha256"])]))
    sections.append(("Sanitized by", [
        ("Name", c["sanitized_by"]["name"]), ("Title", c["sanitized_by"]["title"]),
        ("Organisation", c["sanitized_by"]["organisation"])]))
    sections.append(("Validation", [("Validated by", c["validation"]["name"]),
                                    ("Validation date", c["validation"]["date"])]))
    sections.append(("Signature", [
        ("Attestation", c["attestation"]), ("Signed with", c["signature"]["method"]),
        ("Signing key fingerprint", c["signature"]["key_fingerprint"])]))
    return sections


def render_pdf(cert: dict[str, Any], path: Path) -> None:
    """Write the certificate PDF to ``path``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font, bold = _fonts()
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=10.5)
    mono = ParagraphStyle("mono", fontName="Courier", fontSize=7, leading=9)
    label = ParagraphStyle("label", parent=body, fontName=bold)
    head = ParagraphStyle("head", fontName=bold, fontSize=10.5, leading=13, spaceBefore=4,
                          keepWithNext=1)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19)

    story: list[Any] = [
        Paragraph("Certificate of Equipment Disposal and Media Sanitization", title),
        Paragraph(escape(f"{cert['school']} - following NIST SP 800-88 Rev. 1 Appendix G"),
                  body),
        Spacer(1, 4 * mm),
    ]
    width = A4[0] - 30 * mm
    for heading, rows in _sections(cert):
        story.append(Paragraph(escape(heading), head))
        data = []
        for k, v in rows:
            style = mono if ("SHA-256" in k or "fingerprint" in k) and v else body
            data.append([Paragraph(escape(k), label), Paragraph(escape(v or "-"), style)])
        t = Table(data, colWidths=[width * 0.32, width * 0.68])
        t.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
        ]))
        story.append(t)
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(escape(
        "This PDF and its JSON twin carry detached OpenPGP signatures (.asc). Check them "
        "with `dataward dispose verify FILE` or `gpg --verify FILE.asc FILE`."), body))
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"Disposal certificate {cert['certificate_id']}",
                            subject=cert["asset"]["tag"], invariant=1)
    doc.build(story)
