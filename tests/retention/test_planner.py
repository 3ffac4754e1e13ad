"""The pure planner: who an image names, and whether it is kept or due, and why."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dataward.retention.inventory import ImageItem
from dataward.pipelines.mis import Pupil
from dataward.retention.planner import plan
from dataward.retention.schedule import LegalHold, PupilImageRules, Rules

ROOT = Path("/srv/photos")
AS_OF = date(2024, 1, 10)


def leaver(fore: str, sur: str, left: date = date(2023, 7, 21), upn: str | None = None,
           line: int = 2) -> Pupil:
    return Pupil(upn, fore, sur, None, left, line, "leavers")


def on_roll(fore: str, sur: str, upn: str | None = None, line: int = 2) -> Pupil:
    return Pupil(upn, fore, sur, None, None, line, "on-roll")


def img(rel: str, *tags: tuple[str, str]) -> ImageItem:
    return ImageItem(ROOT, rel, 100, 1, tuple(tags))


DEFAULT_RULES = Rules()


def decide(items, leavers, *, roll=(), rules=DEFAULT_RULES, as_of=AS_OF, consents=None):
    result = plan(items, leavers, rules, as_of, on_roll=roll, consents=consents)
    return {d.item.rel: d for d in [*result.keep, *result.due]}, result


def test_folder_per_pupil_file_name_and_tags_all_match_a_leaver():
    jane = leaver("Jane", "Doe")
    items = [img("Jane Doe/a.jpg"), img("class/Doe_Jane.jpg"), img("class/JaneDoe2023.jpg"),
             img("class/x.jpg", ("xmp:PersonInImage", "Jane Doe")),
             img("class/y.jpg", ("iptc:Keywords", "DOE, JANE"))]
    by_rel, result = decide(items, [jane])
    assert len(result.due) == 5 and not result.keep
    assert by_rel["Jane Doe/a.jpg"].matched_by == ("folder name",)
    assert by_rel["class/Doe_Jane.jpg"].matched_by == ("file name",)
    assert by_rel["class/x.jpg"].matched_by == ("xmp:PersonInImage",)


def test_forename_alone_or_surname_alone_names_nobody():
    by_rel, result = decide([img("Jane/a.jpg"), img("Doe family.jpg"), img("janet doel.jpg")],
                            [leaver("Jane", "Doe")])
    assert not result.due
    assert {d.code for d in by_rel.values()} == {"no-pupil-named"}


def test_accents_apostrophes_and_hyphens_are_matched():
    zoe = leaver("Zoë", "O'Brien-Smith")
    by_rel, result = decide([img("zoe obrien smith.jpg"), img("ZOE_OBRIEN-SMITH/b.jpg")], [zoe])
    assert len(result.due) == 2


def test_upn_in_path_or_tag_matches():
    upn = "U820200101001"
    by_rel, result = decide([img(f"{upn}.jpg"), img("a.jpg", ("exif:XPKeywords", upn.lower()))],
                            [leaver("Jane", "Doe", upn=upn)])
    assert len(result.due) == 2


def test_group_photo_kept_while_any_named_pupil_is_on_roll():
    items = [img("g1.jpg", ("xmp:PersonInImage", "Jane Doe"), ("xmp:PersonInImage", "Sam Roll")),
             img("g2.jpg", ("xmp:PersonInImage", "Jane Doe"), ("xmp:PersonInImage", "Omar Khan"))]
    by_rel, _ = decide(items, [leaver("Jane", "Doe"), leaver("Omar", "Khan", date(2023, 12, 1))],
                       roll=[on_roll("Sam", "Roll")])
    assert by_rel["g1.jpg"].code == "on-roll" and not by_rel["g1.jpg"].due
    # all named have left: due from the LATEST leave date + 30 days = 2023-12-31
    assert by_rel["g2.jpg"].due and by_rel["g2.jpg"].due_on == date(2023, 12, 31)


def test_not_due_until_the_days_after_leaving_have_passed():
    rules = Rules(pupil_images=PupilImageRules(days_after_leaving=60))
    jane = leaver("Jane", "Doe", date(2023, 12, 1))
    by_rel, result = decide([img("Jane Doe.jpg")], [jane], rules=rules)
    d = by_rel["Jane Doe.jpg"]
    assert d.code == "not-yet-due" and d.due_on == date(2024, 1, 30) and not result.due
    by_rel, result = decide([img("Jane Doe.jpg")], [jane], rules=rules, as_of=date(2024, 1, 30))
    assert result.due


def test_same_name_as_a_pupil_on_roll_keeps_the_image():
    by_rel, result = decide([img("Jane Doe.jpg")], [leaver("Jane", "Doe", upn="U1")],
                            roll=[on_roll("Jane", "Doe", upn="U2")])
    assert not result.due and by_rel["Jane Doe.jpg"].code == "on-roll"


def test_archive_or_publication_consent_keeps_the_image():
    upn = "U820200101001"
    consents = {upn: frozenset({"photo archive"})}
    by_rel, result = decide([img("Jane Doe.jpg")], [leaver("Jane", "Doe", upn=upn)],
                            consents=consents)
    assert by_rel["Jane Doe.jpg"].code == "consent" and not result.due
    by_rel, result = decide([img("Jane Doe.jpg")], [leaver("Jane", "Doe", upn=upn)],
                            consents={upn: frozenset({"school newsletter"})})
    assert result.due


def test_legal_holds_by_upn_and_by_folder_keep_everything_they_cover():
    upn = "U820200101001"
    holds = [LegalHold(upn=upn, reason="SAR"), LegalHold(folder=ROOT / "Trip 2019", reason="claim"),
             LegalHold(folder=ROOT / "Old", reason="ended", until=date(2023, 1, 1))]
    rules = Rules(legal_holds=holds)
    items = [img("Jane Doe.jpg"), img("Trip 2019/Omar Khan.jpg"), img("Old/Omar Khan.jpg"),
             img("Trip 2019x/Omar Khan.jpg")]
    by_rel, result = decide(items, [leaver("Jane", "Doe", upn=upn), leaver("Omar", "Khan")],
                            rules=rules)
    assert by_rel["Jane Doe.jpg"].code == "legal-hold"
    assert by_rel["Trip 2019/Omar Khan.jpg"].code == "legal-hold"
    assert by_rel["Old/Omar Khan.jpg"].due  # the hold ended
    assert by_rel["Trip 2019x/Omar Khan.jpg"].due  # a sibling folder is not covered


def test_reasons_never_hold_names_or_upns_and_counts_add_up():
    upn = "U820200101001"
    items = [img("Jane Doe.jpg"), img("IMG_1.jpg"), img(f"{upn}.jpg")]
    _, result = decide(items, [leaver("Jane", "Doe", upn=upn)])
    keep, due, reasons = result
    assert sum(reasons.values()) == len(items) == len(keep) + len(due)
    for d in [*keep, *due]:
        text = " ".join([d.reason, *d.pupils, *d.matched_by]).lower()
        assert "jane" not in text and "doe" not in text and upn.lower() not in text


def test_an_empty_inventory_is_never_a_silent_empty_plan():
    result = plan([], [leaver("Jane", "Doe")], Rules(), AS_OF)
    assert result.warnings and "no images" in result.warnings[0]
    result = plan([img("IMG_1.jpg")], [leaver("Jane", "Doe")], Rules(), AS_OF)
    assert any("no image names any" in w for w in result.warnings)


NAMES = st.sampled_from(["Jane Doe", "Omar Khan", "Sam Roll", "Amy Stone", "Lily Evans", "Bob"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(NAMES, max_size=4), min_size=1, max_size=12),
       st.dates(date(2023, 1, 1), date(2026, 1, 1)))
def test_an_image_naming_a_pupil_on_roll_is_never_due(tagsets, as_of):
    items = [img(f"{i}.jpg", *[("xmp:PersonInImage", n) for n in names])
             for i, names in enumerate(tagsets)]
    leavers = [leaver("Jane", "Doe"), leaver("Omar", "Khan", date(2024, 3, 1)),
               leaver("Lily", "Evans", date(2022, 7, 1))]
    roll = [on_roll("Sam", "Roll"), on_roll("Amy", "Stone")]
    result = plan(items, leavers, Rules(), as_of, on_roll=roll)
    for d in result.due:
        named = {t for _, t in d.item.tags}
        assert not named & {"Sam Roll", "Amy Stone"}
        assert named & {"Jane Doe", "Omar Khan", "Lily Evans"}
        assert d.due_on is not None and d.due_on <= as_of
    assert len(result.keep) + len(result.due) == len(items)
