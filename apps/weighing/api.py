"""The weighing service's HTTP API (FastAPI): routes stay thin; checks live in WeighingService."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from web3 import Web3

from apps.weighing.service import WeighingError, WeighingService
from apps.weighing.store import FILTERS
from protocol.json_limits import MAX_NESTING, nesting_depth

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_INT = 2**63 - 1  # SQLite's integer range


class AsciiJSONResponse(JSONResponse):
    """Errors echo what the client sent (field names): escape it, lone surrogates included."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def get_service(request: Request) -> WeighingService:
    service: WeighingService = request.app.state.service
    return service


ServiceDep = Annotated[WeighingService, Depends(get_service)]


def create_app(service: WeighingService) -> FastAPI:
    app = FastAPI(
        title=f"govchain Wiegedienst / weighing service ({service.city})",
        version="1",
        description="Scales post signed weighings (EIP-712, DESIGN.md §6); cities query, bill and prove them",
    )

    app.state.service = service

    @app.exception_handler(WeighingError)
    async def weighing_error(_: Request, exc: WeighingError) -> JSONResponse:
        return AsciiJSONResponse(exc.to_json(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return AsciiJSONResponse(
            WeighingError(422, "invalid_parameter", str(first["msg"]), field).to_json(), 422
        )

    @app.post("/v1/weighings", status_code=202, summary="Submit one signed weighing or a list of them")
    async def submit(request: Request, svc: ServiceDep) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise WeighingError(413, "too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
        if nesting_depth(body) > MAX_NESTING:
            raise WeighingError(400, "invalid_json", f"the body nests deeper than {MAX_NESTING}")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise WeighingError(400, "invalid_json", "the body is not valid JSON") from None
        if isinstance(payload, list):
            return await run_in_threadpool(_batch, svc, payload)
        result, created = await run_in_threadpool(svc.intake, payload)
        return JSONResponse(result, status_code=202 if created else 200)

    @app.get(
        "/v1/weighings/{record_id}", summary="Status: pending, final or rejected, with block and proof link"
    )
    def status(record_id: str, svc: ServiceDep) -> dict[str, Any]:
        return svc.status(record_id.lower())

    @app.get("/v1/weighings/{record_id}/proof", summary="The proof bundle of a final weighing")
    def proof(record_id: str, svc: ServiceDep) -> dict[str, Any]:
        return svc.proof(record_id.lower())

    @app.get("/v1/weighings", summary="Weighings of this city, filtered and paginated")
    def search(
        svc: ServiceDep,
        city: str | None = None,
        scale: str | None = None,
        vehicleRef: str | None = None,  # noqa: N803 - the wire name
        customerRef: str | None = None,  # noqa: N803
        avvCode: Annotated[int | None, Query(ge=0, le=999_999)] = None,  # noqa: N803
        since: Annotated[int | None, Query(ge=0, le=MAX_INT, description="unix ms, inclusive")] = None,
        until: Annotated[int | None, Query(ge=0, le=MAX_INT, description="unix ms, exclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    ) -> dict[str, Any]:
        _check_city(svc, city)
        if scale is not None and Web3.is_address(scale):
            scale = Web3.to_checksum_address(scale)  # stored checksummed, as the record carries it
        refs = {
            "vehicleRef": vehicleRef and vehicleRef.lower(),
            "customerRef": customerRef and customerRef.lower(),
        }
        filters = {k: v for k, v in {"scale": scale, **refs, "avvCode": avvCode}.items() if v is not None}
        assert set(filters) <= set(FILTERS)
        rows = svc.store.search(filters, since, until, limit, offset)
        items = [row.to_json() | {"status": svc.status(row.record_id)["status"]} for row in rows]
        return {"items": items, "limit": limit, "offset": offset}

    @app.get("/v1/totals", summary="Net kilograms of final weighings per day or month (JSON or CSV)")
    def totals(
        svc: ServiceDep,
        period: Literal["day", "month"] = "day",
        by: Literal["vehicle", "avv", "customer", "scale"] = "avv",
        since: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
        until: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
        city: str | None = None,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        _check_city(svc, city)
        sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        offset = 0
        while rows := svc.store.search({}, since, until, 1000, offset):
            offset += len(rows)
            for row in rows:
                if svc.status(row.record_id)["status"] != "final":
                    continue
                day = time.strftime(
                    "%Y-%m-%d" if period == "day" else "%Y-%m", time.gmtime(row.measured_at / 1000)
                )
                key = {
                    "vehicle": row.vehicle_ref,
                    "avv": str(row.avv_code),
                    "customer": row.customer_ref,
                    "scale": row.scale,
                }[by]
                if by in ("vehicle", "customer"):
                    key = svc.store.clear_value(key) or key  # the plate / customer number where still known
                sums[(day, key)][0] += row.net_kg
                sums[(day, key)][1] += 1
        lines = [{"period": p, by: k, "netKg": v[0], "weighings": v[1]} for (p, k), v in sorted(sums.items())]
        if format == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=["period", by, "netKg", "weighings"], delimiter=";")
            writer.writeheader()
            writer.writerows(lines)
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        return JSONResponse({"city": svc.city, "period": period, "by": by, "totals": lines})

    @app.delete(
        "/v1/subjects/{ref}", status_code=204, summary="Erase the clear value behind a salted reference"
    )
    def forget(ref: str, svc: ServiceDep) -> Response:
        if not svc.forget(ref.lower()):
            raise WeighingError(404, "not_found", "no clear value is stored for this reference", "ref")
        return Response(status_code=204)

    @app.get("/health", include_in_schema=False)
    def health(svc: ServiceDep) -> dict[str, Any]:
        return {"city": svc.city, "outbox": svc.gateway.outbox.counts()}

    return app


def _check_city(service: WeighingService, city: str | None) -> None:
    if city is not None and city != service.city:
        raise WeighingError(404, "other_city", f"this service holds the weighings of {service.city}", "city")


def _batch(service: WeighingService, payload: list[Any]) -> JSONResponse:
    if not payload or len(payload) > service.limits.max_batch:
        raise WeighingError(422, "bad_batch", f"a batch holds 1 to {service.limits.max_batch} weighings")
    results: list[dict[str, Any]] = []
    accepted = 0
    for index, item in enumerate(payload):
        try:
            result, created = service.intake(item)
            accepted += 1
            results.append(result | {"created": created})
        except WeighingError as exc:
            error = exc.to_json()
            if exc.field is not None:
                error["error"]["field"] = f"[{index}].{exc.field}"
            results.append(error | {"status": exc.status})
    return AsciiJSONResponse({"results": results}, status_code=202 if accepted else 422)
