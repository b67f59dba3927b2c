"""Imports of journeys logged elsewhere: the peers' export files read into one shape
(``formats``), then checked in as the traveller's journeys."""
