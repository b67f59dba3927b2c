"""One reader per file of a GTFS feed, each a module named after its file: ``read(load)``
reads the file, checks each row (and its references to the files read before it), and hands
the rows to the load's writer. checkins.timetable.importer calls them in order:

agency, stops, routes, calendar and calendar_dates (the services, written together), shapes,
trips, stop_times (streamed: millions of rows), then the trips and stops are written (they
needed stop_times' counts), transfers and feed_info. ``base`` holds what they share.
"""
