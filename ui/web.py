"""The HTTP edge in front of Gradio's routes: which files are served, by which names, to which origins, how big
an upload may be.

Gradio refuses most of this itself; the guard makes the rules hold whatever its allow-lists do and closes
what they leave open (measured on gradio 6.31 by tests/test_http_surface.py):
- files: only Gradio's own spelling `/gradio_api/file=` of a file in the upload folder is served. Any other
  spelling of a file route (upper case, the old `/file=`, `/gradio_api/file/`) or any other target is 403;
  Gradio answered 404 to the spellings it has no route for.
- origins: the page and the API are same-origin, so a request whose Origin is another site (or `null`)
  is refused with 403, preflight included, and no response carries Access-Control-* headers. Gradio
  granted any origin, with credentials, whenever the Host was not loopback (`rag serve --host 0.0.0.0`).
- hosts: a server bound to loopback (the default) answers only requests addressed to localhost, 127.0.0.1
  or [::1], any port; any other Host is 403. A DNS-rebinding page (a site whose name resolves to 127.0.0.1)
  is same-origin to the browser, Origin included, so only its Host gives it away; Gradio answered any Host.
  A server bound to another address (`--host 0.0.0.0`, a LAN address) or shared (`--share`) is reached by
  names of the user's choosing, so there every Host is answered and the origin rule still holds.
- uploads: a body over the limit is refused with 413 before it is read when its length is declared, and
  as soon as it passes the limit when not; an upload cut off by the client is ended the same way, so
  Gradio deletes its partial file (on a client disconnect it left the file in the temp folder for good).
- other bodies: every other request's body is held to MAX_BODY_BYTES (the OpenAI-compatible API's to
  MAX_API_BODY_BYTES) the same way, 413 before it is read or once it passes the limit; four 200 MB JSON posts
  to Gradio's queue were read whole and left the server 1.5 GB larger.
- logins: after a few wrong passwords (Gradio's `/login`) or API keys (`/v1`) from one client, it must wait,
  longer after each further failure (`ui.throttle`): 429 with Retry-After, before anything is checked.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from starlette.exceptions import HTTPException

from ui.throttle import Throttle

FILE_ROUTE = "/gradio_api/file="
UPLOAD_ROUTE = "/gradio_api/upload"
MULTIPART_SLACK = 64 * 1024  # part headers and boundaries around the file's bytes
# The largest body the page sends is the chat kept in the browser, sent back whole when the page loads (each
# turn's answer with its passages, some KB); 4 MiB holds a long chat and keeps a flood of posts small.
MAX_BODY_BYTES = 4 * 1024 * 1024
# OpenAI clients send the whole conversation with each question, and may attach images (not read, but the
# request must still be answered).
MAX_API_BODY_BYTES = 16 * 1024 * 1024
API_PREFIX = "/v1/"
LOGIN_ROUTE = "/login"
CORS_PREFIX = b"access-control-"  # every Access-Control-* response header grants something; none is needed


def _decoded(path: str, rounds: int = 3) -> str:
    """A path with percent-encoding undone until it stops changing, lower-cased, for recognising routes.

    Example: _decoded("/GRADIO_API/FILE%253D..") -> "/gradio_api/file=.."
    """
    for _ in range(rounds):
        path, before = unquote(path), path
        if path == before:
            break
    return path.lower()


def is_file_request(path: str) -> bool:
    """Whether any spelling of a path asks for a file by name (the routes the guard alone decides on)."""
    p = _decoded(path)
    return "file=" in p or p.startswith(("/file/", "/gradio_api/file/"))


def file_allowed(path: str, upload_dir: str | Path) -> bool:
    """Only `/gradio_api/file=` followed by the absolute path of a file inside the upload folder.

    Example: file_allowed("/gradio_api/file=/tmp/gradio/ab12/notes.md", "/tmp/gradio") -> True (if it exists)
    """
    if not path.startswith(FILE_ROUTE):
        return False
    target = Path(path[len(FILE_ROUTE) :])
    if not target.is_absolute() or ".." in target.parts:
        return False
    root = Path(upload_dir).resolve()
    resolved = target.resolve()
    return resolved.is_relative_to(root) and resolved != root and resolved.is_file()


def foreign_origin(headers: dict[bytes, bytes]) -> bool:
    """A request sent by a page of another site: its Origin's host:port is not the Host it was sent to.

    Example: Origin "https://evil.example" to Host "127.0.0.1:7860" -> True; Origin "null" -> True
    """
    origin = headers.get(b"origin")
    if origin is None:
        return False
    netloc = urlsplit(origin.decode("latin-1").strip()).netloc.lower()
    own = {headers.get(name, b"").decode("latin-1").strip().lower() for name in (b"host", b"x-forwarded-host")}
    return not netloc or netloc not in own


def is_loopback(name: str) -> bool:
    """Whether a host name or address (no port) can only mean this machine: localhost or a loopback address.

    Example: is_loopback("127.0.0.1") -> True; is_loopback("[::1]") -> True; is_loopback("0.0.0.0") -> False
    """
    name = name.strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def checks_host(bound_host: str | None, share: bool = False) -> bool:
    """Whether requests must name loopback: only a server that listens on loopback alone, with no share tunnel
    forwarding a public name to it, knows every name it can rightly be reached by.

    Example: checks_host("127.0.0.1") -> True; checks_host("0.0.0.0") -> False; checks_host("::1", share=True) -> False
    """
    bound_host = bound_host or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")  # what Gradio binds to given none
    return is_loopback(bound_host) and not share


def foreign_host(headers: dict[bytes, bytes]) -> bool:
    """A request addressed to a name that is not loopback, as a DNS-rebinding page's is (evil.example -> 127.0.0.1).

    Example: Host "evil.example:7860" -> True; Host "localhost:7860" or "[::1]:7860" -> False; no Host -> True
    """
    host = headers.get(b"host", b"").decode("latin-1").strip()
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:  # an unbalanced "[" in the Host
        return True
    return not is_loopback(name or "")


def body_limit(path: str) -> int:
    """The largest body a route takes (uploads have their own, see `Guard`).

    Example: body_limit("/gradio_api/queue/join") -> MAX_BODY_BYTES
             body_limit("/v1/chat/completions") -> MAX_API_BODY_BYTES
    """
    return MAX_API_BODY_BYTES if _decoded(path).startswith(API_PREFIX) else MAX_BODY_BYTES


def failure_status(path: str, method: str) -> int | None:
    """The status by which a route says a password or key was wrong, for the routes that check one, else None.

    Example: failure_status("/login", "POST") -> 400 (Gradio's "Incorrect credentials."); "/v1/models" -> 401
    """
    p = _decoded(path)
    if p.rstrip("/") == LOGIN_ROUTE and method == "POST":
        return 400
    if p.startswith(API_PREFIX):
        return 401
    return None


class BodyTooLarge(HTTPException):
    """A streamed body passed its route's limit: raised from `receive`, an HTTPException so that FastAPI's body
    parsing passes it on and the route answers 413; the Guard answers it when nothing else did."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"Request body too large: the limit is {limit} bytes."


async def _refuse(send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode("utf-8")
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware wrapped around Gradio's whole stack (see `guarded_app`)."""

    def __init__(self, app, server, max_upload_bytes: int, check_host: bool = True) -> None:
        self.app, self.server, self.check_host = app, server, check_host
        self.max_body = max_upload_bytes + MULTIPART_SLACK
        self.max_upload_bytes = max_upload_bytes
        self.throttle = Throttle()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        if self.check_host and foreign_host(headers):
            return await _refuse(
                send, 403, "Host not allowed: this server answers only to localhost, 127.0.0.1 and [::1]."
            )
        if foreign_origin(headers):
            return await _refuse(send, 403, "Cross-origin requests are not allowed.")
        if is_file_request(path) and not file_allowed(path, self.server.uploaded_file_dir):
            return await _refuse(send, 403, "File not allowed.")
        send = self._without_cors(send)
        failure = failure_status(path, scope["method"])
        if failure is not None:
            client = (scope.get("client") or (None,))[0]
            wait = self.throttle.wait(client)
            if wait:
                text = f"Too many failed attempts from your address; try again in {wait} s."
                return await _refuse(send, 429, text, [(b"retry-after", str(wait).encode())])
            send = self._counted(send, client, failure)
        declared = headers.get(b"content-length", b"")
        if path.rstrip("/") == UPLOAD_ROUTE and scope["method"] == "POST":
            if declared.isdigit() and int(declared) > self.max_body:
                return await _refuse(send, 413, self._too_large())
            return await self.app(scope, self._bounded(receive), send)
        limit = body_limit(path)
        if declared.isdigit() and int(declared) > limit:
            return await _refuse(send, 413, too_large(limit))
        started = False

        async def sending(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._limited(receive, limit), sending)
        except BodyTooLarge:  # passed up by a route that reads its body itself
            if started:
                raise
            await _refuse(send, 413, too_large(limit))

    def _too_large(self) -> str:
        return f"File size exceeded maximum allowed size of {self.max_upload_bytes} bytes."

    def _bounded(self, receive):
        """The upload's body, ended with the parser's own error when it grows past the limit or is cut off,
        so Gradio deletes its partial file (a plain disconnect left it behind)."""
        from starlette.formparsers import MultiPartException

        seen = 0

        async def bounded():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.disconnect":
                raise MultiPartException("The upload was cut off by the client.")
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise MultiPartException(self._too_large())  # Gradio answers 413 on "maximum allowed size"
            return message

        return bounded

    @staticmethod
    def _limited(receive, limit: int):
        """The body, ended with BodyTooLarge as soon as it passes `limit` (a chunked body declares no length)."""
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        return limited

    def _counted(self, send, client: str | None, failure: int):
        """`send`, noting from the response's status whether the password or key was wrong or right."""

        async def counted(message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == failure:
                    self.throttle.failed(client)
                elif 200 <= status < 300:
                    self.throttle.succeeded(client)
            await send(message)

        return counted

    @staticmethod
    def _without_cors(send):
        async def strip(message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if not h[0].lower().startswith(CORS_PREFIX)]
                message = {**message, "headers": kept}
            await send(message)

        return strip


def guarded_app(max_upload_bytes: int, check_host: bool = True):
    """Gradio's FastAPI app with the Guard outermost, in place from the first request (passed to launch);
    `check_host` as `checks_host` decides for the address the server is bound to."""
    from gradio.routes import App, ORJSONResponse

    class GuardedApp(App):
        def build_middleware_stack(self):
            return Guard(super().build_middleware_stack(), self, max_upload_bytes, check_host)

    return GuardedApp(default_response_class=ORJSONResponse)
