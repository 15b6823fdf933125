"""When each background job is due: the slot every worker agrees on, whatever its clock reads within it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from backend.jobs import DAILY_RUN_AT, Schedule, schedules


def test_the_daily_expiry_is_due_at_ten_past_midnight_in_jakarta():
    daily = Schedule("expire_certificates", daily_at=DAILY_RUN_AT)
    assert time(0, 10) == DAILY_RUN_AT
    # 00:10 WIB on 24 November is 17:10 UTC on the 23rd.
    due = datetime(2026, 11, 23, 17, 10, tzinfo=UTC)
    assert daily.slot(due) == due
    assert daily.slot(due + timedelta(hours=15)) == due  # 09:10 WIB: still that day's run
    assert daily.slot(due - timedelta(seconds=1)) == due - timedelta(days=1)  # 00:09:59 WIB: yesterday's


def test_interval_slots_are_the_same_on_every_machine():
    every_minute = Schedule("cancel_unpaid_orders", every=timedelta(minutes=1))
    start = datetime(2026, 12, 3, 13, 40, tzinfo=UTC)
    assert {every_minute.slot(start + timedelta(seconds=s)) for s in (0, 1, 30, 59.9)} == {start}
    assert every_minute.slot(start + timedelta(seconds=60)) == start + timedelta(minutes=1)
    pushes = Schedule("send_pushes", every=timedelta(seconds=10))
    assert pushes.slot(start + timedelta(seconds=19)) == start + timedelta(seconds=10)


def test_pushes_are_scheduled_only_when_web_push_is_on(settings):
    assert "send_pushes" not in {schedule.job for schedule in schedules(settings)}
    assert {schedule.job for schedule in schedules(settings)} >= {
        "expire_certificates",
        "cancel_unpaid_orders",
        "place_standing_orders",
        "complete_delivered_orders",
        "send_refunds",
        "clean_up_logins",
        "rebuild_search_words",
    }
