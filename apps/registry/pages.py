"""The pages the service serves: the verification page (`/`, `/verify/{hash}`: the QR codes link
there) and the clerks' page (`/clerk`). Plain HTML, CSS and JavaScript modules, no build step; the
browser-side cryptography comes from pinned npm packages (apps/registry/web/package-lock.json,
installed by ./govchain), served from this service, never from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB = Path(__file__).resolve().parent / "web"
STATIC = WEB / "static"
VENDOR = {
    "noble-hashes": WEB / "node_modules" / "@noble" / "hashes",
    "noble-secp256k1": WEB / "node_modules" / "@noble" / "secp256k1",
}
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class WebAssetsMissingError(RuntimeError):
    pass


class SecurityHeaders:
    """Headers on every answer (pure ASGI: no buffering of bodies); the page policy on pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        page = path == "/" or path == "/clerk" or path.startswith(("/verify/", "/static/"))
        private = path.startswith(("/v1/auth", "/v1/drafts", "/v1/audit", "/clerk"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if page:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def mount_pages(app: FastAPI) -> None:
    for name, folder in VENDOR.items():
        if not (folder / "package.json").exists():
            raise WebAssetsMissingError(
                f"{folder} is missing ({name}): run ./govchain once, it installs apps/registry/web's packages"
            )
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=folder), name=name)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def verification_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/verify/{document_hash}", include_in_schema=False)
    def verification_page_for(document_hash: str) -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/clerk", include_in_schema=False)
    def clerk_page() -> FileResponse:
        return FileResponse(STATIC / "clerk.html", media_type="text/html; charset=utf-8")
