"""Greenhouse-gas emission factors, in one place with their source.

Grams of CO₂-equivalent per passenger-kilometre for each of Trainy's modes, and per
vehicle-kilometre for a car driven the same distance (one traveller alone, the comparison a
traveller makes). Source: UK Government, Department for Energy Security and Net Zero,
"Greenhouse gas reporting: conversion factors 2023", sheet "Business travel – land" and
"Business travel – sea" (kg CO₂e, well-to-wheel not included), rounded to whole grams:
national rail 35, light rail and tram 29, London Underground 28, average local bus 102,
coach 27, ferry (foot passenger) 19, average car (unknown fuel) 168 per km.
https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2023

They are national averages: a rough guide to the difference a journey made, not an audit.
"""

from __future__ import annotations

from checkins.models import Mode

SOURCE = "UK Government GHG conversion factors 2023 (DESNZ), rounded"
SOURCE_URL = (
    "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2023"
)

GRAMS_PER_PASSENGER_KM: dict[str, int] = {
    Mode.LONG_DISTANCE: 35,  # national rail
    Mode.REGIONAL: 35,  # national rail
    Mode.SUBURBAN: 35,  # national rail
    Mode.SUBWAY: 28,  # London Underground
    Mode.TRAM: 29,  # light rail and tram
    Mode.BUS: 102,  # average local bus
    Mode.FERRY: 19,  # ferry, foot passenger
    Mode.OTHER: 35,  # taken as rail: most "other" journeys are trains of unknown kind
}
CAR_GRAMS_PER_KM = 168  # average car, unknown fuel, per vehicle-km


def grams(mode: str, meters: int | float) -> float:
    return GRAMS_PER_PASSENGER_KM.get(mode, GRAMS_PER_PASSENGER_KM[Mode.OTHER]) * meters / 1000


def car_grams(meters: int | float) -> float:
    return CAR_GRAMS_PER_KM * meters / 1000
