"""The retention policy is a pure function that says why each snapshot is kept."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st

from dataward.backup import Policy, Snap, apply_policy

T0 = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


def nightly(days: int, per_day: int = 1) -> list[Snap]:
    return [Snap(f"s{d:03}{i}", T0 + timedelta(days=d, hours=i))
            for d in range(days) for i in range(per_day)]


def test_keep_daily_keeps_newest_of_each_of_the_last_days():
    snaps = nightly(10, per_day=2)
    d = apply_policy(snaps, Policy(keep_daily=3))
    kept = [s.id for s, _ in d.keep]
    assert kept == ["s0091", "s0081", "s0071"]
    assert all(r == ("daily snapshot",) for _, r in d.keep)
    assert len(d.remove) == 17


def test_every_reason_is_listed_and_weekly_uses_iso_weeks():
    snaps = nightly(60)
    d = apply_policy(snaps, Policy(keep_daily=7, keep_weekly=4, keep_monthly=3))
    reasons = {s.id: r for s, r in d.keep}
    newest = max(snaps, key=lambda s: s.time)
    assert reasons[newest.id] == ("daily snapshot", "weekly snapshot", "monthly snapshot")
    weekly = [s for s, r in d.keep if "weekly snapshot" in r]
    assert len({s.time.isocalendar()[:2] for s in weekly}) == 4
    monthly = [s for s, r in d.keep if "monthly snapshot" in r]
    # newest of each month: the last snapshot of January and of February, and 1 March
    assert sorted(s.time.strftime("%m-%d") for s in monthly) == ["01-31", "02-28", "03-01"]


def test_empty_policy_keeps_everything():
    snaps = nightly(5)
    d = apply_policy(snaps, Policy())
    assert not d.remove and len(d.keep) == 5


def test_keep_last_and_yearly():
    snaps = [Snap("old", datetime(2023, 6, 1, tzinfo=UTC)), Snap("mid", datetime(2024, 6, 1, tzinfo=UTC)),
             Snap("new1", datetime(2025, 6, 1, tzinfo=UTC)), Snap("new2", datetime(2025, 7, 1, tzinfo=UTC))]
    d = apply_policy(snaps, Policy(keep_last=1, keep_yearly=2))
    reasons = {s.id: r for s, r in d.keep}
    assert reasons == {"new2": ("one of the newest", "yearly snapshot"), "mid": ("yearly snapshot",)}
    assert {s.id for s in d.remove} == {"old", "new1"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2000), min_size=1, max_size=40, unique=True),
       st.integers(0, 5), st.integers(0, 5), st.integers(0, 5))
def test_partition_and_newest_always_kept(hours, daily, weekly, last):
    snaps = [Snap(f"s{h}", T0 + timedelta(hours=h)) for h in hours]
    policy = Policy(keep_last=last, keep_daily=daily, keep_weekly=weekly)
    d = apply_policy(snaps, policy)
    kept = {s.id for s, _ in d.keep}
    removed = {s.id for s in d.remove}
    assert kept | removed == {s.id for s in snaps} and not kept & removed
    assert max(snaps, key=lambda s: s.time).id in kept
    if not policy.empty:
        assert len(kept) <= last + daily + weekly
