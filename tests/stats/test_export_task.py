"""Exports of more than 2,000 journeys: made by the Celery task on a real worker (RabbitMQ,
queue ``exports``), their progress recorded on the Export row, then downloaded by their owner
only; the task's failures and restarts."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from checkins.models import CheckIn, Mode, Purpose
from stats.exports.columns import DEFAULT_COLUMNS
from stats.models import Export
from stats.services import DIRECT_LIMIT, export_run
from stats.tasks import run_export
from tests.conftest import wait_for
from tests.stats.exports_data import BERLIN, signed_in, sql_totals

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EXPORT = reverse("exports:new")
YEAR = {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"}
JOURNEYS = DIRECT_LIMIT + 150


def many_journeys(user, count: int = JOURNEYS) -> None:
    """``count`` journeys in 2025, two hours apart, every third one business; bulk-inserted."""
    start = datetime(2025, 1, 1, 6, 0, tzinfo=BERLIN)
    CheckIn.objects.bulk_create(
        [
            CheckIn(
                user=user,
                mode=Mode.REGIONAL,
                line_name=f"RE {index % 90}",
                origin_name="Berlin Hbf",
                origin_lat=52.5251,
                origin_lon=13.3694,
                destination_name="Potsdam Hbf",
                destination_lat=52.3915,
                destination_lon=13.0670,
                departure_planned=start + timedelta(hours=2 * index),
                arrival_planned=start + timedelta(hours=2 * index, minutes=25 + index % 20),
                distance_m=26_000 + index,
                duration_s=(25 + index % 20) * 60,
                purpose=Purpose.BUSINESS if index % 3 else Purpose.PRIVATE,
                ticket_price=Decimal("4.10") if index % 3 else None,
                time_zone="Europe/Berlin",
            )
            for index in range(count)
        ],
        batch_size=1000,
    )


def finished(export_id: int) -> Export:
    def done() -> Export | None:
        export = Export.objects.defer("content").get(id=export_id)
        return export if export.status in {Export.Status.DONE, Export.Status.FAILED} else None

    return wait_for(done, timeout=180, message=f"export {export_id} to finish")  # type: ignore[return-value]


def test_a_large_csv_export_is_made_by_the_worker_with_progress_and_a_download(
    celery_worker, alice, bob
):
    many_journeys(alice)
    owner = signed_in(alice)
    response = owner.post(
        EXPORT, YEAR | {"format": "csv", "columns": list(DEFAULT_COLUMNS), "separator": ","}
    )
    export = Export.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:status", args=[export.id])
    assert export.rows_total == JOURNEYS
    assert export.format == "csv"

    export = finished(export.id)
    assert export.status == Export.Status.DONE, export.error
    assert export.rows_done == export.rows_total == JOURNEYS
    assert export.filename == "trainy-alice-2025-01-01-to-2025-12-31.csv"

    progress = owner.get(reverse("exports:progress", args=[export.id])).content.decode()
    assert "hx-trigger" not in progress  # polling stops once done
    assert reverse("exports:download", args=[export.id]) in progress

    download = owner.get(reverse("exports:download", args=[export.id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="trainy-alice-2025-01-01-to-2025-12-31.csv"' in download["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    sql = sql_totals(alice, date(2025, 1, 1), date(2025, 12, 31))
    assert len(rows) == sql.journeys == JOURNEYS
    assert sum(round(float(row["Distance (km)"]) * 1000) for row in rows) == sql.meters
    assert sum(Decimal(row["Ticket price"] or "0") for row in rows) == sql.tickets

    # Only its owner sees it.
    other = signed_in(bob)
    for name in ("status", "progress", "download"):
        assert other.get(reverse(f"exports:{name}", args=[export.id])).status_code == 404


def test_a_large_business_report_is_made_by_the_worker(celery_worker, alice):
    many_journeys(alice, count=3 * DIRECT_LIMIT // 2 + 60)  # two thirds business: > 2,000
    sql = sql_totals(alice, date(2025, 1, 1), date(2025, 12, 31), purposes=(Purpose.BUSINESS,))
    assert sql.journeys > DIRECT_LIMIT
    response = signed_in(alice).post(
        EXPORT, YEAR | {"format": "report-xlsx", "columns": ["id"], "separator": ","}
    )
    assert response.status_code == 302
    export = finished(Export.objects.get(user=alice).id)
    assert export.status == Export.Status.DONE, export.error
    download = signed_in(alice).get(reverse("exports:download", args=[export.id]))
    workbook = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True)
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert summary[-1][:4] == ("Total", sql.journeys, sql.km, sql.hours)
    assert Decimal(str(summary[-1][4])) == sql.tickets
    assert sum(row[1] for row in summary[1:-1]) == sql.journeys


def test_an_export_that_fails_says_so_on_its_page(alice):
    export = Export.objects.create(
        user=alice, format="csv", options={"format": "csv", "time_zone": "Nowhere/Atlantis"}
    )
    result = run_export.apply(args=[export.id])
    assert result.failed()
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    page = signed_in(alice).get(reverse("exports:status", args=[export.id])).content.decode()
    assert "The export failed; please try again." in page
    assert "hx-trigger" not in page


def test_running_an_export_again_keeps_the_finished_file(alice):
    many_journeys(alice, count=5)
    export = Export.objects.create(
        user=alice,
        format="json",
        options={"format": "json", "start": "2025-01-01", "end": "2025-12-31",
                 "time_zone": "Europe/Berlin"},
    )  # fmt: skip
    first = export_run(export_id=export.id)
    assert first is not None and first.status == Export.Status.DONE
    content = Export.objects.get(id=export.id).content
    CheckIn.objects.filter(user=alice).delete()
    export_run(export_id=export.id)  # a task delivered twice
    assert Export.objects.get(id=export.id).content == content
