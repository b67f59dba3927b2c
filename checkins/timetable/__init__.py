"""The timetable: GTFS feeds imported into versioned tables, station search and departures."""
