"""The registry service's HTTP API (FastAPI): routes stay thin; checks live in RegistryService,
ClerkAuth and RegistryReader, and their RegistryError becomes the JSON error here, in one place."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from apps.common import AsciiJSONResponse
from apps.registry import openapi as schemas
from apps.registry.auth import Clerk
from apps.registry.catalog import catalog_json
from apps.registry.errors import RegistryError, parse_hash
from apps.registry.pages import mount_pages
from apps.registry.qr import qr_png, qr_svg
from apps.registry.service import RegistryService
from apps.registry.store import Action
from apps.registry.uploads import read_upload
from ledger.errors import LedgerError
from protocol.json_limits import MAX_NESTING, nesting_depth

MAX_JSON_BYTES = 64 * 1024
SESSION_COOKIE = "govchain_registry_session"
CSRF_HEADER, CSRF_VALUE = "X-Requested-With", "govchain-registry"
AUDIT_COLUMNS = ("time", "action", "clerk", "documentHash", "reason", "successor", "note", "state",
                 "transaction", "block", "rejection")  # fmt: skip


def get_service(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.service
    return service


ServiceDep = Annotated[RegistryService, Depends(get_service)]


def get_clerk(request: Request, svc: ServiceDep) -> Clerk:
    """The clerk of the session: a bearer token (API clients) or the HttpOnly cookie (the page);
    a state-changing request with the cookie must also carry X-Requested-With (no cross-site forms)."""
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return svc.auth.session(authorization[7:].strip())
    clerk = svc.auth.session(request.cookies.get(SESSION_COOKIE))
    if request.method not in ("GET", "HEAD") and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise RegistryError(
            403, "csrf", f"with the session cookie, send the header {CSRF_HEADER}: {CSRF_VALUE}"
        )
    return clerk


ClerkDep = Annotated[Clerk, Depends(get_clerk)]


async def json_body(request: Request) -> Any:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise RegistryError(413, "too_large", f"the body exceeds {MAX_JSON_BYTES} bytes")
    if nesting_depth(body) > MAX_NESTING:
        raise RegistryError(400, "invalid_json", f"the body nests deeper than {MAX_NESTING}")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise RegistryError(400, "invalid_json", "the body is not valid JSON") from None


def create_app(service: RegistryService, secure_cookie: bool = True) -> FastAPI:
    app = FastAPI(
        title=f"govchain Registerauskunft / registry attestations ({service.city})",
        version="1",
        description="Clerks attest registry extracts by their SHA-256 (EIP-712, DESIGN.md §6); "
        "anyone verifies a document by its hash",
    )
    app.state.service = service

    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, exc: RegistryError) -> JSONResponse:
        return AsciiJSONResponse(exc.to_json(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return AsciiJSONResponse(
            RegistryError(422, "invalid_parameter", str(first["msg"]), field).to_json(), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return AsciiJSONResponse(
            RegistryError(exc.status_code, code, str(exc.detail)).to_json(), exc.status_code
        )

    @app.exception_handler(LedgerError)
    async def chain_unavailable(_: Request, exc: LedgerError) -> JSONResponse:
        error = RegistryError(503, "chain_unavailable", f"the chain did not answer: {exc}")
        return AsciiJSONResponse(error.to_json(), 503)

    # ------------------------------------------------------------- anyone

    @app.get("/v1/info", summary="City, chain, contract, register types and reason codes")
    def info(svc: ServiceDep) -> dict[str, Any]:
        return {
            "city": svc.city,
            "displayName": svc.auth.display_name,
            "chainId": svc.gateway.settings.chain_id,
            "registry": svc.gateway.settings.contracts.registry,
            "domain": svc.domain.to_json(),
            "maxUploadBytes": svc.limits.max_upload_bytes,
        } | catalog_json(svc.limits.register_types)

    @app.get("/v1/verify/{document_hash}", summary="A document's status by its SHA-256 (no login)")
    def verify(
        document_hash: str,
        svc: ServiceDep,
        bundle: Annotated[bool, Query(description="include the proof bundle itself")] = False,
    ) -> dict[str, Any]:
        raw = parse_hash(document_hash)
        answer = svc.reader.verify(raw)
        if bundle and answer.get("proof"):
            answer["proofBundle"] = svc.reader.proof(raw)
        return answer

    @app.post(
        "/v1/verify",
        summary="A document's status by uploading it (multipart `file` or raw body)",
        openapi_extra=schemas.VERIFY_UPLOAD,
    )
    async def verify_upload(request: Request, svc: ServiceDep) -> dict[str, Any]:
        upload = await read_upload(request, svc.limits.max_upload_bytes)
        answer: dict[str, Any] = await run_in_threadpool(svc.reader.verify, upload.sha256)
        return answer | {"size": upload.size}

    @app.get("/v1/attestations/{document_hash}/proof", summary="The proof bundle of an attestation")
    def proof(document_hash: str, svc: ServiceDep) -> Response:
        raw = parse_hash(document_hash)
        bundle = svc.reader.proof(raw)
        return Response(
            json.dumps(bundle, indent=2) + "\n",
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="nachweis-{raw.hex()[:16]}.json"'},
        )

    @app.get("/v1/attestations/{document_hash}/qr.{kind}", summary="QR code of the verification page")
    def qr(document_hash: str, kind: Literal["png", "svg"], svc: ServiceDep) -> Response:
        url = svc.reader.verify_url(parse_hash(document_hash))
        if kind == "png":
            return Response(qr_png(url), media_type="image/png")
        return Response(qr_svg(url), media_type="image/svg+xml")

    # ------------------------------------------------------------ sign-in

    @app.post(
        "/v1/auth/challenge",
        summary="A one-time sign-in message for a clerk's address",
        openapi_extra=schemas.CHALLENGE,
    )
    async def challenge(request: Request, svc: ServiceDep) -> dict[str, Any]:
        body = await json_body(request)
        address = body.get("address") if isinstance(body, dict) else None
        return await run_in_threadpool(svc.auth.challenge, address)

    @app.post(
        "/v1/auth/login",
        summary="Sign in with the signed challenge: a session cookie or token",
        openapi_extra=schemas.LOGIN,
    )
    async def login(request: Request, svc: ServiceDep) -> JSONResponse:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise RegistryError(422, "invalid_body", "expected {nonce, signature}")
        token, clerk = await run_in_threadpool(svc.auth.login, body.get("nonce"), body.get("signature"))
        answer: dict[str, Any] = {
            "clerk": clerk.address,
            "city": svc.city,
            "expiresAt": int(clerk.expires_at),
        }
        if body.get("bearer") is True:
            answer["token"] = token
        response = JSONResponse(answer)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=svc.auth.session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=secure_cookie,
            path="/",
        )
        return response

    @app.get("/v1/auth/session", summary="The signed-in clerk")
    def session(clerk: ClerkDep, svc: ServiceDep) -> dict[str, Any]:
        return {"clerk": clerk.address, "city": svc.city, "expiresAt": int(clerk.expires_at)}

    @app.post("/v1/auth/logout", summary="End the session")
    def logout(clerk: ClerkDep, svc: ServiceDep) -> Response:
        svc.auth.logout(clerk)
        response = Response(status_code=204)
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookie
        )
        return response

    # ------------------------------------------------------------- clerks

    @app.post(
        "/v1/drafts",
        summary="The attestation to sign, from a document hash and metadata",
        openapi_extra=schemas.DRAFT,
    )
    async def draft(request: Request, clerk: ClerkDep, svc: ServiceDep) -> dict[str, Any]:
        body = await json_body(request)
        return await run_in_threadpool(svc.drafts.draft, clerk, body)

    @app.post(
        "/v1/drafts/upload",
        summary="The attestation to sign, from an uploaded extract (multipart)",
        openapi_extra=schemas.DRAFT_UPLOAD,
    )
    async def draft_upload(request: Request, clerk: ClerkDep, svc: ServiceDep) -> dict[str, Any]:
        upload = await read_upload(request, svc.limits.max_upload_bytes, form_only=True)
        fields: dict[str, Any] = dict(upload.fields)
        if fields.get("validUntil", "").isdigit():
            fields["validUntil"] = int(fields["validUntil"])
        answer = await run_in_threadpool(svc.drafts.draft, clerk, fields, upload.sha256)
        return answer | {"fileName": upload.filename, "size": upload.size}

    @app.post(
        "/v1/attestations",
        status_code=202,
        summary="Issue: a clerk-signed attestation",
        openapi_extra=schemas.ISSUE,
    )
    async def issue(request: Request, clerk: ClerkDep, svc: ServiceDep) -> JSONResponse:
        body = await json_body(request)
        answer, created = await run_in_threadpool(svc.issue, clerk, body)
        return JSONResponse(answer, status_code=202 if created else 200)

    @app.post(
        "/v1/attestations/{document_hash}/revocation",
        status_code=202,
        summary="Revoke, with a reason",
        openapi_extra=schemas.REVOKE,
    )
    async def revoke(document_hash: str, request: Request, clerk: ClerkDep, svc: ServiceDep) -> JSONResponse:
        body = await json_body(request)
        answer, created = await run_in_threadpool(svc.revoke, clerk, document_hash, body)
        return JSONResponse(answer, status_code=202 if created else 200)

    @app.post(
        "/v1/attestations/{document_hash}/supersession",
        status_code=202,
        summary="Supersede by another attested document, with a reason",
        openapi_extra=schemas.SUPERSEDE,
    )
    async def supersede(
        document_hash: str, request: Request, clerk: ClerkDep, svc: ServiceDep
    ) -> JSONResponse:
        body = await json_body(request)
        answer, created = await run_in_threadpool(svc.supersede, clerk, document_hash, body)
        return JSONResponse(answer, status_code=202 if created else 200)

    @app.get("/v1/audit", summary="What this city's clerks did here, newest first (JSON or CSV)")
    def audit(
        clerk: ClerkDep,
        svc: ServiceDep,
        action: Action | None = None,
        city: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        if city is not None and city != svc.city:
            raise RegistryError(403, "other_city", f"this service keeps the audit of {svc.city}", "city")
        rows = svc.audit(action, limit, offset)
        if format == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, delimiter=";", extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        return JSONResponse({"city": svc.city, "items": rows, "limit": limit, "offset": offset})

    @app.get("/health", include_in_schema=False)
    def health(svc: ServiceDep) -> dict[str, Any]:
        return {"city": svc.city, "outbox": svc.gateway.outbox.counts()}

    mount_pages(app)
    return app


def _cell(value: Any) -> Any:
    """No spreadsheet formulas from text a clerk typed (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
