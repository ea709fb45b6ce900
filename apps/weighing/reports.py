"""Totals for billing: net kilograms of final weighings per day or month, by vehicle, waste code,
customer or scale, as JSON rows or as the CSV a billing department imports."""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict
from typing import Any, Literal

from apps.weighing.service import WeighingService

Period = Literal["day", "month"]
GroupBy = Literal["vehicle", "avv", "customer", "scale"]
PAGE = 1000


def totals(
    service: WeighingService, period: Period, by: GroupBy, since: int | None, until: int | None
) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    day_format = "%Y-%m-%d" if period == "day" else "%Y-%m"
    offset = 0
    while rows := service.store.search({}, since, until, PAGE, offset):
        offset += len(rows)
        for row in rows:
            if service.status(row.record_id)["status"] != "final":
                continue
            key = {
                "vehicle": row.vehicle_ref,
                "avv": str(row.avv_code),
                "customer": row.customer_ref,
                "scale": row.scale,
            }[by]
            if by in ("vehicle", "customer"):
                key = service.store.clear_value(key) or key  # the plate / customer number where still known
            bucket = sums[(time.strftime(day_format, time.gmtime(row.measured_at / 1000)), key)]
            bucket[0] += row.net_kg
            bucket[1] += 1
    return [{"period": p, by: k, "netKg": v[0], "weighings": v[1]} for (p, k), v in sorted(sums.items())]


def as_csv(lines: list[dict[str, Any]], by: GroupBy) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["period", by, "netKg", "weighings"], delimiter=";")
    writer.writeheader()
    writer.writerows(lines)
    return out.getvalue()
