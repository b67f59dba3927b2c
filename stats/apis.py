"""The API of statistics: the figures of the statistics page for a range and filter (its form,
its selector, its cache), the traveller's own and nobody else's."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.apis import FILTER_PARAMETERS, TotalsSerializer
from checkins.models import Mode, Purpose
from stats import emissions
from stats.forms import PERIODS, StatsFilterForm
from stats.selectors import WEEKDAYS, Statistics, user_statistics
from trainy.accounts.models import Scope, User
from trainy.api.forms import valid_form
from trainy.api.schema import api_operation


class RangeSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS), help_text="As asked, or implied.")
    start = serializers.DateField(allow_null=True, help_text="First day; null: no bound.")
    end = serializers.DateField(allow_null=True, help_text="Last day, included; null: no bound.")
    purposes = serializers.ListField(
        child=serializers.ChoiceField(choices=Purpose.choices), help_text="Empty: all."
    )
    modes = serializers.ListField(
        child=serializers.ChoiceField(choices=Mode.choices), help_text="Empty: all."
    )
    description = serializers.CharField(help_text="The range and filters, as the page says it.")


class BreakdownSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The mode, purpose, operator, line or month (YYYY-MM).")
    label = serializers.CharField()
    journeys = serializers.IntegerField()
    distance_km = serializers.FloatField()
    hours = serializers.FloatField()


class DelaysSerializer(serializers.Serializer):
    with_real_times = serializers.IntegerField(help_text="Journeys whose real arrival is known.")
    total_minutes = serializers.IntegerField()
    average_minutes = serializers.FloatField(allow_null=True, help_text="Null: no real times.")
    on_time_percent = serializers.FloatField(
        allow_null=True, help_text="Arrived less than 6 minutes late; null: no real times."
    )


class StationVisitsSerializer(serializers.Serializer):
    name = serializers.CharField()
    visits = serializers.IntegerField(help_text="Journeys starting or ending there.")


class LongJourneySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    line_name = serializers.CharField()
    origin_name = serializers.CharField()
    destination_name = serializers.CharField()
    departure_planned = serializers.DateTimeField()
    distance_m = serializers.IntegerField()


class ModeEmissionsSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Mode.choices)
    label = serializers.CharField()
    kg = serializers.FloatField()


class EmissionsSerializer(serializers.Serializer):
    kg = serializers.FloatField(help_text="kg CO₂e of the journeys.")
    car_kg = serializers.FloatField(help_text="kg CO₂e by car over the same distance, alone.")
    saved_kg = serializers.FloatField()
    by_mode = ModeEmissionsSerializer(many=True)
    source = serializers.CharField(help_text="Where the emission factors come from.")
    source_url = serializers.URLField()


STATS_EXAMPLE = {
    "range": {
        "period": "this-year",
        "start": "2026-01-01",
        "end": "2026-12-06",
        "purposes": [],
        "modes": [],
        "description": "1 Jan 2026 – 6 Dec 2026",
    },
    "totals": {"journeys": 57, "distance_km": 10432.5, "hours": 98.2},
    "points": 1460,
    "delays": {
        "with_real_times": 40,
        "total_minutes": 212,
        "average_minutes": 5.3,
        "on_time_percent": 72.5,
    },
    "by_purpose": [
        {"key": "business", "label": "Business", "journeys": 31, "distance_km": 8120.0,
         "hours": 70.4},
    ],
    "by_mode": [
        {"key": "long_distance", "label": "Long-distance rail", "journeys": 31,
         "distance_km": 8120.0, "hours": 70.4},
    ],
    "by_operator": [
        {"key": "DB Fernverkehr", "label": "DB Fernverkehr", "journeys": 31,
         "distance_km": 8120.0, "hours": 70.4},
    ],
    "by_line": [
        {"key": "ICE 1601", "label": "ICE 1601", "journeys": 9, "distance_km": 2556.0,
         "hours": 17.1},
    ],
    "months": [
        {"key": "2026-11", "label": "Nov 2026", "journeys": 6, "distance_km": 1420.3,
         "hours": 12.9},
    ],
    "stations": [{"name": "Berlin Hbf", "visits": 28}],
    "longest": [
        {"id": 42, "mode": "long_distance", "line_name": "ICE 1601", "origin_name": "Berlin Hbf",
         "destination_name": "München Hbf", "departure_planned": "2026-11-03T06:00:00+01:00",
         "distance_m": 623000},
    ],
    "heatmap": [[0] * 7 + [3, 1] + [0] * 15] * 7,
    "emissions": {
        "kg": 365.1,
        "car_kg": 1752.7,
        "saved_kg": 1387.6,
        "by_mode": [{"mode": "long_distance", "label": "Long-distance rail", "kg": 284.2}],
        "source": emissions.SOURCE,
        "source_url": emissions.SOURCE_URL,
    },
}  # fmt: skip


def _answer(statistics: Statistics, period: str) -> dict[str, Any]:
    """The figures as the statistics page shows them, in the shape of StatsApi's answer."""
    criteria = statistics.criteria
    mode_labels = dict(Mode.choices)
    return {
        "range": {
            "period": period,
            "start": criteria.start,
            "end": criteria.end,
            "purposes": list(criteria.purposes),
            "modes": list(criteria.modes),
            "description": criteria.describe(),
        },
        "totals": statistics.totals,
        "points": statistics.points,
        "delays": statistics.delays,
        "by_purpose": statistics.by_purpose,
        "by_mode": statistics.by_mode,
        "by_operator": statistics.by_operator,
        "by_line": statistics.by_line,
        "months": statistics.months,
        "stations": [{"name": name, "visits": visits} for name, visits in statistics.stations],
        "longest": statistics.longest,
        "heatmap": statistics.heatmap,
        "emissions": {
            "kg": statistics.emissions.kg,
            "car_kg": statistics.emissions.car_kg,
            "saved_kg": statistics.emissions.saved_kg,
            # The selector lists the modes' emissions in the order of by_mode, by label.
            "by_mode": [
                {"mode": row.key, "label": mode_labels.get(row.key, row.key), "kg": kg}
                for row, (_, kg) in zip(
                    statistics.by_mode, statistics.emissions.by_mode, strict=True
                )
            ],
            "source": emissions.SOURCE,
            "source_url": emissions.SOURCE_URL,
        },
    }


class StatsApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema_serializer(component_name="Statistics")
    class OutputSerializer(serializers.Serializer):
        range = RangeSerializer(help_text="What the figures are of.")
        totals = TotalsSerializer()
        points = serializers.IntegerField(help_text="As the leaderboards count them.")
        delays = DelaysSerializer()
        by_purpose = BreakdownSerializer(many=True)
        by_mode = BreakdownSerializer(many=True)
        by_operator = BreakdownSerializer(many=True, help_text="The 10 with most journeys.")
        by_line = BreakdownSerializer(many=True, help_text="The 10 with most journeys.")
        months = BreakdownSerializer(many=True, help_text="Months with journeys, oldest first.")
        stations = StationVisitsSerializer(many=True, help_text="The 10 most visited.")
        longest = LongJourneySerializer(many=True, help_text="The 5 longest, by distance.")
        heatmap = serializers.ListField(
            child=serializers.ListField(child=serializers.IntegerField()),
            help_text=f"Journeys departing per weekday ({', '.join(WEEKDAYS)}) and hour of the "
            "day (0 to 23), in Trainy's time zone: 7 lists of 24.",
        )
        emissions = EmissionsSerializer()

    @api_operation(
        operation_id="stats_get",
        summary="Your statistics",
        description="What the statistics page shows for a range: totals, delays, points, "
        "breakdowns by purpose, mode, operator, line and month, the most visited stations, the "
        "longest journeys, when you travel and the emissions. Your own journeys only (private "
        "ones included); this year by default. The same filter as “My journeys” and exports, "
        "so the totals agree.",
        parameters=FILTER_PARAMETERS,
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[OpenApiExample("this year", value=STATS_EXAMPLE, response_only=True)],
        tags=["statistics"],
    )
    def get(self, request: Request) -> Response:
        user: User = request.user
        form = StatsFilterForm(request.query_params)
        data = valid_form(form)
        statistics = user_statistics(owner=user, criteria=form.criteria())
        return Response(self.OutputSerializer(_answer(statistics, data["period"])).data)
