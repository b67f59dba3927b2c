"""Writes of the check-in domain, one module per concern. Views, the admin, commands and tasks
call these; each rule lives here once. Import from the module that owns the function:

- ``checkins``: recording, changing and deleting a journey, and the rules it must keep;
- ``moderation``: journeys made private (by an admin, or by age) or deleted in bulk;
- ``enrichment_lifecycle``: queueing, running and failing the enrichment of journeys (the
  document itself is built by ``checkins.enrichment``);
- ``realtime``: GTFS-Realtime updates applied to the journeys they concern.
"""
