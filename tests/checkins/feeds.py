"""A small, valid GTFS feed written by tests, to be broken one way at a time."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

from django.urls import reverse

FILES: dict[str, str] = {
    "agency.txt": (
        "agency_id,agency_name,agency_url,agency_timezone\n"
        "DB,DB Fernverkehr,https://www.bahn.de,Europe/Berlin\n"
    ),
    # Columns in an unusual order, a parent station with two platforms, a quoted name.
    "stops.txt": (
        "stop_name,stop_id,stop_lat,stop_lon,location_type,parent_station,platform_code\n"
        "Berlin Hbf,BER,52.5251,13.3694,1,,\n"
        "Berlin Hbf Gleis 1,BER:1,52.5252,13.3695,0,BER,1\n"
        "Berlin Hbf Gleis 2,BER:2,52.5250,13.3693,0,BER,2\n"
        '"Hamburg Hbf, Fernbahn",HAM,53.5530,10.0069,0,,\n'
        "München Hbf,MUC,48.1402,11.5583,0,,\n"
    ),
    "routes.txt": (
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "R1,DB,,ICE 1601,2\n"
        "R2,DB,S7,,109\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WD,1,1,1,1,1,0,0,20190101,20191231\n"
    ),
    "calendar_dates.txt": (
        "service_id,date,exception_type\n"
        "WD,20190610,2\n"  # Whit Monday: no weekday service
        "SUN,20190609,1\n"
    ),
    "trips.txt": (
        "route_id,service_id,trip_id,trip_headsign,direction_id,shape_id\n"
        "R1,WD,T1,Hamburg Hbf,0,SH1\n"
        "R1,WD,NIGHT,München Hbf,1,\n"
        "R2,SUN,S1,Hamburg Hbf,0,\n"
    ),
    "stop_times.txt": (
        "trip_id,stop_id,stop_sequence,arrival_time,departure_time\n"
        "T1,BER:1,1,08:00:00,08:02:00\n"
        "T1,HAM,2,09:51:00,09:51:00\n"
        # A night train leaving after midnight of its service day: 24:30 is 00:30 next day.
        "NIGHT,BER:2,0,24:25:00,24:30:00\n"
        "NIGHT,MUC,1,31:10:00,31:10:00\n"
        "S1,BER:1,1,10:00:00,10:00:00\n"
        "S1,HAM,2,12:00:00,12:00:00\n"
    ),
    "shapes.txt": (
        "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
        "SH1,52.5251,13.3694,1\n"
        "SH1,53.0,11.9,2\n"
        "SH1,53.5530,10.0069,3\n"
    ),
    "feed_info.txt": (
        "feed_publisher_name,feed_publisher_url,feed_lang\n"
        '"Test, Publisher",https://example.org,de\n'
    ),
}


def write_feed(
    folder: Path,
    changes: dict[str, str | bytes | None] | None = None,
    *,
    as_zip: bool = False,
) -> Path:
    """Write the feed with ``changes`` (None removes a file); return the folder or zip path."""
    files: dict[str, str | bytes | None] = {**FILES, **(changes or {})}
    folder.mkdir(parents=True, exist_ok=True)
    if as_zip:
        target = folder / "feed.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                if content is not None:
                    archive.writestr(name, content)
        return target
    for name, content in files.items():
        if content is None:
            continue
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def post_trip_checkin(client, **overrides):  # type: ignore[no-untyped-def]
    """Check in through the trip page of the feed above (imported as "test"): ICE 1601 from
    Berlin Hbf (platform 1, seq 1) to Hamburg on Monday 2019-06-03. Form fields can be
    overridden, e.g. to tamper with them."""
    url = reverse("timetable:trip", args=["test", "T1", "2019-06-03"]) + "?from=BER"
    data = {
        "origin_seq": "1",
        "destination_seq": "2",
        "visibility": "public",
        "purpose": "private",
        "message": "",
        "idempotency_key": str(uuid.uuid4()),
    } | overrides
    return client.post(url, data)
