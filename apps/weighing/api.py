"""The weighing service's HTTP API (FastAPI): routes stay thin; checks live in WeighingService."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from web3 import Web3

from apps.common import AsciiJSONResponse
from apps.weighing import reports
from apps.weighing.openapi import weighings_request_body
from apps.weighing.reports import GroupBy, Period
from apps.weighing.service import WeighingError, WeighingService
from apps.weighing.staff import StaffDirectory, StaffMember, StaffRole
from apps.weighing.store import FILTERS
from protocol.json_limits import MAX_NESTING, nesting_depth

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_INT = 2**63 - 1  # SQLite's integer range


def get_service(request: Request) -> WeighingService:
    service: WeighingService = request.app.state.service
    return service


ServiceDep = Annotated[WeighingService, Depends(get_service)]
bearer = HTTPBearer(auto_error=False, description="a staff token (`govchain weighing token`)")


def _staff_with(role: StaffRole) -> Callable[..., StaffMember]:
    def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> StaffMember:
        if credentials is None:
            raise WeighingError(
                401, "unauthenticated", "send a staff token: Authorization: Bearer …", "Authorization"
            )
        directory: StaffDirectory = request.app.state.staff
        member = directory.authenticate(credentials.credentials)
        if member is None:
            raise WeighingError(401, "unauthenticated", "unknown or withdrawn staff token", "Authorization")
        if role not in member.roles:
            raise WeighingError(403, "forbidden", f"this needs the staff role {role.value}", "Authorization")
        return member

    return dependency


Reader = Annotated[StaffMember, Depends(_staff_with(StaffRole.READER))]
PrivacyOfficer = Annotated[StaffMember, Depends(_staff_with(StaffRole.PRIVACY))]


def create_app(service: WeighingService, staff: StaffDirectory | None = None) -> FastAPI:
    app = FastAPI(
        title=f"govchain Wiegedienst / weighing service ({service.city})",
        version="1",
        description="Scales post signed weighings (EIP-712, DESIGN.md §6); cities query, bill and prove them",
    )

    app.state.service = service
    app.state.staff = staff or StaffDirectory(None)

    @app.exception_handler(WeighingError)
    async def weighing_error(_: Request, exc: WeighingError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return AsciiJSONResponse(exc.to_json(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return AsciiJSONResponse(
            WeighingError(422, "invalid_parameter", str(first["msg"]), field).to_json(), 422
        )

    @app.post(
        "/v1/weighings",
        status_code=202,
        summary="Submit one signed weighing or a list of them",
        openapi_extra=weighings_request_body(service.limits.max_batch),
    )
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
        staff: Reader,
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
        staff: Reader,
        period: Period = "day",
        by: GroupBy = "avv",
        since: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
        until: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
        city: str | None = None,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        _check_city(svc, city)
        lines = reports.totals(svc, period, by, since, until)
        if format == "csv":
            return Response(reports.as_csv(lines, by), media_type="text/csv; charset=utf-8")
        return JSONResponse({"city": svc.city, "period": period, "by": by, "totals": lines})

    @app.delete(
        "/v1/subjects/{ref}", status_code=204, summary="Erase the clear value behind a salted reference"
    )
    def forget(ref: str, svc: ServiceDep, staff: PrivacyOfficer) -> Response:
        if not svc.forget(ref.lower(), staff.name):
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
