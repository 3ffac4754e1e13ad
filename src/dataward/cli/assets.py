"""`dataward assets ...` (the register) and `dataward dispose ...` (disposals and
their signed certificates)."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

from enum import Enum
import typer

from ..home import open_ledger
from .common import get_settings, out

assets_app = typer.Typer(help="The asset register: import, add, list and show equipment.",
                         no_args_is_help=True)
dispose_app = typer.Typer(help="Record equipment disposals with signed certificates; "
                               "verify and export them.", no_args_is_help=True)


# Str enums Typer shows as choices; ``.value`` is the plain string.
class StatusC(str, Enum):
    in_use = "in-use"
    disposed = "disposed"


class MethodC(str, Enum):
    clear = "clear"
    purge = "purge"
    destroy = "destroy"


class RouteC(str, Enum):
    waste = "waste"
    gift = "gift"
    sale = "sale"
    return_ = "return"  # `return` is a keyword: the value is what Typer shows


class YesNoC(str, Enum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class TechniqueC(str, Enum):
    overwrite = "overwrite"
    block_erase = "block-erase"
    crypto_erase = "crypto-erase"
    degauss = "degauss"
    shred = "shred"
    disintegrate = "disintegrate"
    pulverise = "pulverise"
    incinerate = "incinerate"
    drill = "drill"
    other = "other"


class VerificationC(str, Enum):
    full = "full"
    sampling = "sampling"
    none = "none"
    other = "other"


class MediaC(str, Enum):
    hdd = "hdd"
    ssd = "ssd"
    flash = "flash"
    hybrid = "hybrid"
    optical = "optical"
    other = "other"
    unknown = "unknown"


class DestinationC(str, Enum):
    internal_reuse = "internal-reuse"
    external_reuse = "external-reuse"
    recycling = "recycling"
    manufacturer = "manufacturer"
    other = "other"


class FormatC(str, Enum):
    csv = "csv"
    parquet = "parquet"


def _v(choice: Optional[Enum]) -> Optional[str]:
    return None if choice is None else str(choice.value)


def _date(value: Optional[str], what: str) -> Optional[date]:
    from ..connectors.schoolcsv import parse_date
    from ..errors import UsageError
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise UsageError(f"{what} {exc}") from None


@assets_app.command("import")
def assets_import(
    ctx: typer.Context,
    csv_file: Annotated[Path, typer.Argument(help="The inventory CSV (header row first).")],
    update: Annotated[bool, typer.Option("--update", help="Overwrite assets already in "
                                         "the register (never disposed ones).")] = False,
) -> None:
    """Import the school's inventory CSV: every row or none; bad rows named by line.

    Columns (headers matched ignoring case and punctuation): asset_tag, type, make,
    model, serial, storage_serials (separated by ';'), location, assigned_to,
    purchase_date, has_storage.

    Example: dataward assets import inventory.csv
    """
    from ..assets.register import import_csv
    with open_ledger(get_settings(ctx)) as ledger:
        res = import_csv(ledger, csv_file, update_existing=update)
    out.print(f"imported {res.added} new asset(s), updated {res.updated}")
    if res.ignored_columns:
        out.print("ignored columns: " + ", ".join(res.ignored_columns))


@assets_app.command("add")
def assets_add(
    ctx: typer.Context,
    tag: Annotated[str, typer.Argument(help="The asset tag.")],
    type_: Annotated[str, typer.Option("--type", help="laptop, desktop, server, monitor ...")],
    make: Annotated[str, typer.Option(help="Manufacturer.")] = "",
    model: Annotated[str, typer.Option(help="Model.")] = "",
    serial: Annotated[str, typer.Option(help="Serial number of the device.")] = "",
    storage_serial: Annotated[Optional[list[str]], typer.Option(
        "--storage-serial", help="Serial of a drive in it (repeat for each).")] = None,
    location: Annotated[str, typer.Option(help="Room or site.")] = "",
    assigned_to: Annotated[str, typer.Option(help="Who uses it (kept in the register only).")] = "",
    purchase_date: Annotated[Optional[str], typer.Option(help="YYYY-MM-DD or DD/MM/YYYY.")] = None,
    storage: Annotated[Optional[bool], typer.Option(
        "--storage/--no-storage", help="Whether it has storage media (default: guessed "
        "from drive serials and type).")] = None,
) -> None:
    """Add one asset to the register.

    Example: dataward assets add OAK-0042 --type laptop --make Dell --model "Latitude 5420" --serial 7XK2L53 --storage-serial S4EWNX0R123456
    """
    from pydantic import ValidationError

    from ..assets.models import Asset
    from ..assets.register import add_asset
    from ..errors import UsageError
    try:
        asset = Asset(tag=tag, type=type_, make=make, model=model, serial=serial,
                      storage_serials=tuple(storage_serial or ()), location=location,
                      assigned_to=assigned_to,
                      purchase_date=_date(purchase_date, "--purchase-date"),
                      has_storage_override=storage)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise UsageError(f"{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}") from None
    with open_ledger(get_settings(ctx)) as ledger:
        add_asset(ledger, asset)
    out.print(f"added {asset.tag} ({asset.type}, storage: {'yes' if asset.has_storage else 'no'})")


@assets_app.command("list")
def assets_list(
    ctx: typer.Context,
    status: Annotated[Optional[StatusC], typer.Option(
        help="Only assets with this status.")] = None,
) -> None:
    """List the register (without who each asset is assigned to).

    Example: dataward assets list --status in-use
    """
    from rich.table import Table

    from ..assets.register import list_assets
    with open_ledger(get_settings(ctx)) as ledger:
        rows = list_assets(ledger, status=_v(status))
    t = Table("tag", "type", "make", "model", "serial", "drives", "location", "status")
    for a in rows:
        t.add_row(a.tag, a.type, a.make, a.model, a.serial, str(len(a.storage_serials)),
                  a.location, a.status)
    out.print(t)
    out.print(f"{len(rows)} asset(s)")


@assets_app.command("show")
def assets_show(ctx: typer.Context, tag: Annotated[str, typer.Argument(help="Asset tag.")]) -> None:
    """Show one asset, and its disposal certificate if it was disposed of.

    Example: dataward assets show OAK-0042
    """
    from sqlalchemy import select

    from ..assets.register import get_asset
    from ..assets.tables import disposals_table
    with open_ledger(get_settings(ctx)) as ledger:
        a = get_asset(ledger, tag)
        with ledger.engine.connect() as conn:
            d = conn.execute(select(disposals_table).where(
                disposals_table.c.tag == a.tag)).first()
    fields = [("tag", a.tag), ("type", a.type), ("make", a.make), ("model", a.model),
              ("serial", a.serial), ("storage serials", ", ".join(a.storage_serials) or "-"),
              ("has storage", "yes" if a.has_storage else "no"), ("location", a.location),
              ("assigned to", a.assigned_to),
              ("purchase date", a.purchase_date.isoformat() if a.purchase_date else ""),
              ("status", a.status)]
    if d is not None:
        fields += [("disposed on", d.disposed_on), ("method", d.method), ("route", d.route),
                   ("certificate", d.disposal_id), ("certificate PDF", d.pdf_path),
                   ("certificate JSON", d.json_path), ("audit record", str(d.audit_seq))]
    for k, v in fields:
        out.print(f"{k:>17}: {v or '-'}")


@dispose_app.command("record")
def dispose_record(
    ctx: typer.Context,
    tag: Annotated[str, typer.Argument(help="Asset tag.")],
    method: Annotated[MethodC, typer.Option(help="NIST SP 800-88 method type.")],
    route: Annotated[RouteC, typer.Option(help="How it leaves the school.")],
    recipient: Annotated[str, typer.Option(help="Who received it (organisation or person).")],
    authorised_by: Annotated[str, typer.Option(help="Who authorised the disposal.")],
    technician: Annotated[str, typer.Option(help="Who performed the sanitization.")],
    evidence: Annotated[Optional[list[Path]], typer.Option(
        help="nwipe log, erasure or destruction certificate (repeat for each).")] = None,
    disposed_on: Annotated[Optional[str], typer.Option("--date", help="Date disposed (default today).")] = None,
    pat_date: Annotated[Optional[str], typer.Option(help="PAT test date (gift and sale).")] = None,
    pat_certificate: Annotated[Optional[Path], typer.Option(help="The PAT certificate file.")] = None,
    receipt: Annotated[Optional[Path], typer.Option(
        help="The recipient's written receipt accepting responsibility for destroying "
             "personal data.")] = None,
    weee_note: Annotated[str, typer.Option(help="WEEE waste transfer note number (waste).")] = "",
    personal_data: Annotated[YesNoC, typer.Option(
        help="Is personal data likely held on the storage media?")] = YesNoC.unknown,
    licences_checked: Annotated[bool, typer.Option(
        "--licences-checked", help="Software licensing was verified before disposal.")] = False,
    data_backed_up: Annotated[YesNoC, typer.Option(
        help="Was the data backed up first?")] = YesNoC.unknown,
    technique: Annotated[Optional[TechniqueC], typer.Option(
        help="Sanitization technique (default: overwrite; shred for destroy).")] = None,
    tool: Annotated[str, typer.Option(help="Tool and version (default: from the nwipe log).")] = "",
    verification: Annotated[Optional[VerificationC], typer.Option(
        help="Verification method (default: from the nwipe log).")] = None,
    media_type: Annotated[MediaC, typer.Option(
        help="Type of the storage media.")] = MediaC.unknown,
    destination: Annotated[Optional[DestinationC], typer.Option(
        help="Media destination (default: from the route).")] = None,
    technician_title: Annotated[str, typer.Option(help="The technician's job title.")] = "",
    validated_by: Annotated[str, typer.Option(help="Who validated the sanitization.")] = "",
    notes: Annotated[str, typer.Option(help="Free-text notes for the certificate.")] = "",
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Also copy the certificate and signatures to this folder.")] = None,
) -> None:
    """Record a disposal and write its signed certificate (PDF + JSON twin).

    Example: dataward dispose record OAK-0042 --method clear --route waste --recipient "Acme Recycling Ltd" --evidence nwipe.log --weee-note WTN-2026-118 --authorised-by "J Patel" --technician "S Jones"
    """
    from pydantic import ValidationError

    from ..assets.disposal import record_disposal
    from ..assets.request import DisposalRequest
    from ..errors import UsageError
    try:
        req = DisposalRequest(
            tag=tag, method=_v(method), route=_v(route), recipient=recipient,
            authorised_by=authorised_by, technician=technician,
            disposed_on=_date(disposed_on, "--date") or date.today(),
            pat_date=_date(pat_date, "--pat-date"), pat_certificate=pat_certificate,
            receipt=receipt, weee_note=weee_note, personal_data=_v(personal_data),
            licences_checked=licences_checked, data_backed_up=_v(data_backed_up),
            technique=_v(technique), tool=tool, verification=_v(verification),
            media_type=_v(media_type), destination=_v(destination),
            technician_title=technician_title, validated_by=validated_by, notes=notes,
            evidence=tuple(evidence or ()))
    except ValidationError as exc:
        e = exc.errors()[0]
        raise UsageError(f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}") from None
    settings = get_settings(ctx)
    with open_ledger(settings) as ledger:
        res = record_disposal(settings, ledger, req)
    out.print(f"disposal of {res.tag} recorded: certificate {res.certificate_id} "
              f"(audit record {res.audit_seq}, {res.evidence} evidence file(s))")
    files = [res.pdf_path, res.pdf_path.with_name(res.pdf_path.name + ".asc"),
             res.json_path, res.json_path.with_name(res.json_path.name + ".asc")]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = [Path(shutil.copy2(f, out_dir / f.name)) for f in files]
    for f in files:
        out.print(f"  {f}")


@dispose_app.command("verify")
def dispose_verify(
    ctx: typer.Context,
    cert: Annotated[str, typer.Argument(help="Certificate PDF or JSON, or a certificate id.")],
    signature: Annotated[Optional[Path], typer.Option(
        help="Detached signature (default: CERT.asc).")] = None,
) -> None:
    """Check a certificate's signature and that it matches the register; exit 6 if not.

    Example: dataward dispose verify DW-20260312-1A2B3C4D.pdf
    """
    from ..assets.verify import verify_certificate
    from ..errors import IntegrityError
    settings = get_settings(ctx)
    with open_ledger(settings) as ledger:
        try:
            rep = verify_certificate(settings, ledger, cert, signature)
        except IntegrityError:
            # A failed check is itself evidence: keep it in the audit log.
            ledger.audit("assets.certificate.verify_failed", Path(cert).name)
            raise
        ledger.audit("assets.certificate.verify", rep.tag, certificate_id=rep.certificate_id,
                     files=len(rep.files))
    for c in rep.checks:
        out.print(f"ok: {c}")
    out.print(f"certificate {rep.certificate_id} for asset {rep.tag} verified")


@dispose_app.command("register")
def dispose_register(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Option(help="Only disposals in this calendar year.")] = None,
    fmt: Annotated[FormatC, typer.Option("--format", help="csv or parquet.")] = FormatC.csv,
    out_file: Annotated[Optional[Path], typer.Option(
        "--out", help="Output file (default: disposals-YEAR.FORMAT here).")] = None,
) -> None:
    """Export the disposal register for audit as CSV or Parquet.

    Example: dataward dispose register --year 2026 --format parquet
    """
    from ..assets.export import export_register
    kind = _v(fmt) or "csv"
    target = out_file or Path(f"disposals-{year or 'all'}.{kind}")
    with open_ledger(get_settings(ctx)) as ledger:
        n = export_register(ledger, target, fmt=kind, year=year)
        ledger.audit("assets.register.export", target.name, rows=n, format=kind, year=year)
    out.print(f"wrote {n} disposal(s) to {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(assets_app, name="assets")
    app.add_typer(dispose_app, name="dispose")
