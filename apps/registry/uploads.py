"""Uploaded documents are hashed as they stream in and never stored: a multipart form (the document
in the part named `file`, a few short text fields beside it) or the raw body as the document.
The size limit holds for bodies without a Content-Length too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from apps.registry.errors import RegistryError, invalid

FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and the text fields beside the file
MAX_FIELD = 4096
MAX_PARTS = 16


@dataclass
class Upload:
    sha256: bytes
    size: int
    filename: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def _too_large(max_bytes: int) -> RegistryError:
    return RegistryError(413, "too_large", f"the document exceeds {max_bytes} bytes", "file")


class _FormHasher:
    """Callbacks of python-multipart's streaming parser: the `file` part into SHA-256, text fields
    into memory (bounded)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.digest = hashlib.sha256()
        self.size = 0
        self.files = 0
        self.parts = 0
        self.filename: str | None = None
        self.fields: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._name: str | None = None
        self._value = bytearray()
        self._is_file = False
        self.ended = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add_header_name(data[start:end]),
            "on_header_value": lambda data, start, end: self._add_header_value(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": lambda data, start, end: self._data(data[start:end]),
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _end(self) -> None:
        self.ended = True

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise RegistryError(400, "invalid_form", f"at most {MAX_PARTS} form fields")
        self._name, self._is_file, self._value = None, False, bytearray()

    def _add_header_name(self, data: bytes) -> None:
        self._header_name += data

    def _add_header_value(self, data: bytes) -> None:
        self._header_value += data
        if len(self._header_value) > MAX_FIELD:
            raise RegistryError(400, "invalid_form", "a part header is too long")

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            _, options = parse_options_header(self._header_value.decode("latin-1"))
            self._name = options.get(b"name", b"").decode("utf-8", "replace")
            if self._name == "file":
                self._is_file = True
                self.files += 1
                if self.files > 1:
                    raise invalid("one document per request", "file")
                raw_name = options.get(b"filename")
                self.filename = raw_name.decode("utf-8", "replace")[:200] if raw_name else None
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        if self._name is None:
            raise RegistryError(400, "invalid_form", "a form part without a name")

    def _data(self, data: bytes) -> None:
        if self._is_file:
            self.size += len(data)
            if self.size > self.max_bytes:
                raise _too_large(self.max_bytes)
            self.digest.update(data)
            return
        self._value += data
        if len(self._value) > MAX_FIELD:
            raise invalid(f"at most {MAX_FIELD} bytes", self._name)

    def _part_end(self) -> None:
        if not self._is_file and self._name is not None:
            try:
                self.fields[self._name] = self._value.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid("not UTF-8 text", self._name) from None


async def read_upload(request: Request, max_bytes: int, form_only: bool = False) -> Upload:
    """The SHA-256 and size of the uploaded document: the multipart field `file`, or (unless
    `form_only`) the raw body of any other content type but a URL-encoded form."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise _too_large(max_bytes)
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" and (
        form_only or content_type == b"application/x-www-form-urlencoded"
    ):
        raise invalid("send a multipart form with the document in the field file", "file", "missing_file")
    if content_type != b"multipart/form-data":
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            digest.update(chunk)
        return _checked(Upload(digest.digest(), size))
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise RegistryError(400, "invalid_form", "multipart/form-data without a boundary")
    form = _FormHasher(max_bytes)
    parser = MultipartParser(boundary, form.callbacks())  # type: ignore[arg-type]
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes + FORM_OVERHEAD:
                raise _too_large(max_bytes)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise RegistryError(400, "invalid_form", f"not a valid multipart form: {exc}") from None
    if not form.ended:
        raise RegistryError(400, "invalid_form", "the multipart form ends early")
    if form.files == 0:
        raise invalid("the document goes in the form field named file", "file", "missing_file")
    return _checked(Upload(form.digest.digest(), form.size, form.filename, form.fields))


def _checked(upload: Upload) -> Upload:
    if upload.size == 0:
        raise invalid("the document is empty", "file", "empty_file")
    return upload
