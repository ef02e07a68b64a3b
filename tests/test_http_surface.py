"""The web surface of a live `rag serve`, probed with plain HTTP (issue #8, item 8).

The server runs in its own process, from a project folder of its own: `corpus/`, its index under
`index/data/main`, a `.env` holding a secret, and a secret file beside the folder for `../` to reach;
Gradio's temp folder is a fresh one. A second server over the same project is bound to all interfaces
(`--host 0.0.0.0`), as a user serving the LAN would; it is reached through 127.0.0.1 like the first.
Requests are sent byte for byte (http.client), so `..`, `%2e%2e` and upper-case spellings, and any Host,
reach the server as written. Corpus documents are shown by the app as escaped
text in its document viewer (tests/test_ui.py), never as files: the only files served are uploads.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from rag.corpus import MAX_UPLOAD_BYTES as LIMIT
from tests.conftest import RAG, REPORT, subprocess_env
from tests.test_ui import wait_until
from ui.throttle import FREE_FAILURES
from ui.web import MAX_API_BODY_BYTES, MAX_BODY_BYTES

pytestmark = pytest.mark.slow

SECRET = "s3cret-7f1d9c"  # in every file the server must not hand out
BOUNDARY = "rag-test-boundary"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`rag serve` in a subprocess whose working folder is a small project with secrets in it."""
    from eval.load import start_server

    root = tmp_path_factory.mktemp("surface")
    project, temp = root / "project", root / "gradio-tmp"
    (project / "corpus").mkdir(parents=True)
    temp.mkdir()
    shutil.copy(REPORT, project / "corpus" / REPORT.name)
    (project / ".env").write_text(f"RAG_AUTH=ann:{SECRET}\n", encoding="utf-8")
    (root / "outside.txt").write_text(f"outside the project {SECRET}\n", encoding="utf-8")
    index = project / "index" / "data" / "main"
    env = dict(subprocess_env(), GRADIO_TEMP_DIR=str(temp))
    env.pop("RAG_AUTH", None)
    argv = [str(RAG), "serve", "--corpus", "corpus", "--index", "index/data/main"]
    live = start_server(argv, root / "server.log", env=env, cwd=project)
    try:
        yield SimpleNamespace(
            port=int(live.url.rstrip("/").rsplit(":", 1)[1]),
            root=root,
            project=project,
            index=index,
            temp=temp,
            argv=argv,
            env=env,
            log=root / "server.log",
        )
    finally:
        live.stop()


@pytest.fixture(scope="module")
def lan_server(server):
    """`rag serve --host 0.0.0.0` over the first server's project (its index is built by then)."""
    from eval.load import start_server

    temp = server.root / "gradio-tmp-lan"
    temp.mkdir()
    log = server.root / "lan-server.log"
    env = dict(server.env, GRADIO_TEMP_DIR=str(temp))
    login = server.root / "login"
    login.write_text(f"ann:{LAN_PASSWORD}\n", encoding="utf-8")
    argv = [*server.argv, "--host", "0.0.0.0", "--auth-file", str(login)]  # other machines reach it: a login
    live = start_server(argv, log, env=env, cwd=server.project)
    try:
        lan = SimpleNamespace(port=int(live.url.rstrip("/").rsplit(":", 1)[1]), log=log)
        status, headers, reply = log_in(lan, LAN_PASSWORD)
        assert status == 200, reply[:200]
        lan.cookie = "; ".join(c.split(";", 1)[0] for c in headers["set-cookie"].split(", ") if "=" in c)
        yield lan
    finally:
        live.stop()


LAN_PASSWORD = "lan-pass-4e2a"


def log_in(server, password: str):
    """Gradio's login form, as the login page posts it; (status, headers, body)."""
    body = f"username=ann&password={quote(password)}".encode()
    return request(server, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, body)


def request(server, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None):
    """One request with the path sent exactly as written; (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        heads = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
        if getattr(server, "cookie", None):
            heads.setdefault("Cookie", server.cookie)
        if body is not None:
            heads.setdefault("Content-Length", str(len(body)))
        for name, value in heads.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def files_in(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# ---- file routes -----------------------------------------------------------------------------------------

SPELLINGS = [
    "/gradio_api/file={}",
    "/gradio_api/file/{}",
    "/file={}",
    "/file/{}",
    "/GRADIO_API/FILE={}",
    "/gradio_api/FILE={}",
    "/Gradio_Api/File={}",
    "/gradio_api/file%3D{}",
    "/gradio_api/file%3d{}",
]


def targets(server) -> list[str]:
    """Files that exist and must not be served: secrets, the index, the corpus, the system's, by every route."""
    index_files = sorted(p for p in server.index.rglob("*") if p.is_file())
    assert index_files, "the server built no index"
    corpus = f"corpus/{REPORT.name}"
    return [
        ".env",
        str(server.project / ".env"),
        "../outside.txt",
        "corpus/../.env",
        "%2e%2e/outside.txt",
        "%2E%2E%2Foutside.txt",
        "%252e%252e%252foutside.txt",
        "..%5Coutside.txt",
        "%2F" + str(server.root / "outside.txt").lstrip("/").replace("/", "%2F"),
        str(server.root / "project" / ".." / "outside.txt"),
        "/etc/passwd",
        "/proc/self/environ",
        "index/data/main",
        *(str(p.relative_to(server.project)) for p in index_files[:3]),
        str(index_files[0]),
        corpus,
        str(server.project / corpus),
        str(server.temp / ".." / "outside.txt"),
    ]


def test_file_routes_refuse_every_spelling_of_every_file_outside_the_uploads_with_403(server):
    assert (server.project / ".env").is_file() and (server.root / "outside.txt").is_file()
    for target in targets(server):
        for spelling in SPELLINGS:
            path = spelling.format(target)
            for method in ("GET", "HEAD"):
                status, _, body = request(server, method, path)
                assert SECRET.encode() not in body and b"root:" not in body, path
                assert status == 403, f"{method} {path} -> {status}, not 403"


def upload(server, name: str, data: bytes) -> list[str]:
    body = multipart(name, data)
    status, _, reply = request(
        server, "POST", "/gradio_api/upload", {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, body
    )
    assert status == 200, reply[:200]
    return json.loads(reply)


def multipart(name: str, data: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
    return (head + "Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_only_uploads_are_served_and_only_by_their_own_path(server):
    [saved] = upload(server, "notes.txt", b"The lighthouse is kept by Ingrid.\n")
    assert Path(saved).is_relative_to(server.temp)
    status, headers, body = request(server, "GET", f"/gradio_api/file={saved}")
    assert status == 200 and body == b"The lighthouse is kept by Ingrid.\n"
    [odd] = upload(server, "100% notes (v2).txt", b"Odd names are served too.\n")
    assert request(server, "GET", "/gradio_api/file=" + quote(odd))[2] == b"Odd names are served too.\n"
    detour = str(Path(saved).parent / ".." / Path(saved).parent.name / Path(saved).name)
    for path in (f"/gradio_api/file={detour}", f"/GRADIO_API/FILE={saved}", f"/gradio_api/file={server.temp}"):
        assert request(server, "GET", path)[0] == 403, path


# ---- uploads over the limit ------------------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing_in_the_temp_folder(server):
    before = files_in(server.temp)
    body = multipart("big.txt", b"a" * (LIMIT + 1024))
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    status, _, reply = request(server, "POST", "/gradio_api/upload", headers, body)
    assert status == 413 and b"maximum allowed size" in reply
    assert files_in(server.temp) == before

    status, _, reply = chunked_upload(server, body)  # no declared length: refused once the limit is passed
    assert status == 413 and b"maximum allowed size" in reply
    assert files_in(server.temp) == before


def chunked_upload(server, body: bytes, path: str = "/gradio_api/upload", kind: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest("POST", path, skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{server.port}")
        conn.putheader("Content-Type", kind or f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for i in range(0, len(body), 256 * 1024):
                piece = body[i : i + 256 * 1024]
                conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the rest is sent
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def declared_only(server, path: str, length: int) -> tuple[int, bytes]:
    """A post that declares `length` bytes and sends none: only a refusal before reading can answer it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as conn:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
        conn.sendall(head.encode())
        reply = http.client.HTTPResponse(conn)
        reply.begin()
        return reply.status, reply.read()


@pytest.mark.parametrize(
    "path, limit",
    [
        ("/gradio_api/queue/join", MAX_BODY_BYTES),
        ("/gradio_api/call/ask", MAX_BODY_BYTES),
        ("/v1/chat/completions", MAX_API_BODY_BYTES),
    ],
)
def test_a_body_over_its_routes_limit_is_refused_before_or_as_it_passes_the_limit(server, path, limit):
    """Four 200 MB posts to the queue were read whole and kept; every route now has a limit (issue #21, item 10)."""
    status, reply = declared_only(server, path, 200 * 1024 * 1024)
    assert status == 413 and b"Request body too large" in reply
    big = b'{"data": ["' + b"x" * (limit + 1024) + b'"]}'
    status, _, reply = chunked_upload(server, big, path, "application/json")  # no declared length
    assert status == 413 and b"too large" in reply.lower(), reply[:200]
    answer = call_ask(server, "Who chaired Session II?")  # the server is unharmed and a question still works
    assert "event: complete" in answer and "ARIUNAA Enkhtur" in answer
    chat = {"model": "rag", "messages": [{"role": "user", "content": "Who chaired Session II?"}]}
    status, _, reply = request(
        server, "POST", "/v1/chat/completions", {"Content-Type": "application/json"}, json.dumps(chat).encode()
    )
    assert status == 200 and "ARIUNAA Enkhtur" in json.loads(reply)["choices"][0]["message"]["content"]


def test_an_upload_cut_off_by_the_client_leaves_nothing_in_the_temp_folder(server):
    before = files_in(server.temp)
    body = multipart("cut.txt", b"a" * (LIMIT // 2))
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as conn:
        head = (
            f"POST /gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        conn.sendall(head.encode() + body[: len(body) // 3])
        wait_until(lambda: files_in(server.temp) - before, "the server to start writing the upload")
    wait_until(lambda: files_in(server.temp) == before, "the partial upload to be deleted", limit=30)


# ---- origins ---------------------------------------------------------------------------------------------


ASK = json.dumps({"data": ["Who chaired Session II?", 5, "hybrid", None]}).encode()
PROBES = [
    ("GET", "/gradio_api/info", {}, None),
    ("POST", "/gradio_api/call/ask", {"Content-Type": "application/json"}, ASK),
    (
        "OPTIONS",
        "/gradio_api/call/ask",
        {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        None,
    ),
]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
@pytest.mark.parametrize("host", ["loopback", "lan"])  # lan: served with --host 0.0.0.0 and reached by address
def test_another_origin_is_refused_and_never_granted(server, lan_server, origin, host):
    live = server if host == "loopback" else lan_server
    own = f"127.0.0.1:{live.port}" if host == "loopback" else f"192.168.1.20:{live.port}"
    for method, path, extra, body in PROBES:
        status, headers, reply = request(live, method, path, {"Host": own, "Origin": origin, **extra}, body)
        assert not any(k.startswith("access-control-") for k in headers), (method, path, headers)
        assert status == 403, (method, path, status)
        assert reply == b"Cross-origin requests are not allowed.", (method, path, reply[:200])
    same = f"http://{own}"
    status, headers, _ = request(live, "GET", "/gradio_api/info", {"Host": own, "Origin": same})
    assert status == 200 and "access-control-allow-origin" not in headers  # the page's own origin needs no grant


# ---- hosts -----------------------------------------------------------------------------------------------


def test_a_loopback_server_refuses_requests_addressed_to_any_other_name(server):
    """DNS rebinding: a page of evil.example, whose name then resolves to 127.0.0.1, is same-origin to the
    browser (its Origin matches its Host), so only the Host shows the request was not meant for this server."""
    port = server.port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"192.168.1.20:{port}"):
        for origin in (f"http://{host}", None):
            for method, path, extra, body in [("GET", "/", {}, None), *PROBES]:
                heads = {"Host": host, **({"Origin": origin} if origin else {}), **extra}
                status, headers, reply = request(server, method, path, heads, body)
                assert status == 403, (host, method, path, status)
                assert headers["content-type"].startswith("text/plain") and b"\n" not in reply
                assert reply.startswith(b"Host not allowed"), (host, method, path, reply[:200])
                assert not any(k.startswith("access-control-") for k in headers), (host, method, path)
    for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
        status, _, page = request(server, "GET", "/", {"Host": host})
        assert status == 200 and b"<html" in page.lower(), (host, status)
        status, _, reply = request(
            server, "POST", "/gradio_api/call/ask", {"Host": host, "Content-Type": "application/json"}, ASK
        )
        assert status == 200 and "event_id" in json.loads(reply), (host, status, reply[:200])


def test_a_server_bound_to_all_interfaces_answers_the_names_it_is_reached_by(lan_server):
    """--host 0.0.0.0 is the user's choice to be reached by a LAN address or name; the host rule stays out of it."""
    for host in (f"192.168.1.20:{lan_server.port}", f"rag-box.lan:{lan_server.port}", f"127.0.0.1:{lan_server.port}"):
        status, _, reply = request(lan_server, "GET", "/gradio_api/info", {"Host": host})
        assert status == 200 and b"Host not allowed" not in reply, (host, status)


# ---- limits the browser would have held ------------------------------------------------------------------


def call_ask(server, question: str) -> str:
    """The `ask` API through Gradio's plain-HTTP route: the stream of events it answers with."""
    body = json.dumps({"data": [question, 5, "hybrid", None]}).encode()
    status, _, reply = request(server, "POST", "/gradio_api/call/ask", {"Content-Type": "application/json"}, body)
    assert status == 200, reply[:300]
    event = json.loads(reply)["event_id"]
    status, _, stream = request(server, "GET", f"/gradio_api/call/ask/{event}")
    assert status == 200
    return stream.decode("utf-8")


def test_a_2_mb_question_through_the_api_gets_the_apps_rejection(server):
    stream = call_ask(server, "Who chaired Session II? " + "x" * (2 * 1024 * 1024))
    assert "event: error" in stream and "event: complete" not in stream
    error = json.loads(stream.split("event: error", 1)[1].split("data:", 1)[1].strip().splitlines()[0])
    assert "limit is 2000" in error["error"] and "Traceback" not in stream
    answer = call_ask(server, "Who chaired Session II?")  # the server is unharmed
    assert "event: complete" in answer and "ARIUNAA Enkhtur" in answer


def test_wrong_passwords_from_one_client_are_slowed_down_and_a_right_one_still_gets_in(lan_server):
    """200 wrong passwords took 0.3 s (issue #21, item 11); after a few, each further try waits, longer each time."""
    answers = [log_in(lan_server, f"guess-{n}") for n in range(200)]
    wrong = [a for a in answers if a[0] == 400]
    waits = [a for a in answers if a[0] == 429]
    assert len(wrong) + len(waits) == 200 and FREE_FAILURES <= len(wrong) < 20  # 20 would take 2**14 s of waits
    assert all(int(h["retry-after"]) >= 1 and b"try again in" in body for _, h, body in waits)
    assert all(a[0] == 400 for a in answers[:FREE_FAILURES])  # a few typos are never made to wait
    for _ in range(20):  # the right password after the wait it was told: not locked out for ever
        status, headers, _ = log_in(lan_server, LAN_PASSWORD)
        if status != 429:
            break
        time.sleep(int(headers["retry-after"]))
    assert status == 200


def test_refusals_and_rejections_left_no_traceback_in_the_server_log(server, lan_server):
    """A caller's mistake is answered to the caller; the log keeps tracebacks for the server's own faults."""
    for path in (server.log, lan_server.log):
        log = path.read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in log and "Exception in ASGI application" not in log, (path.name, log[-3000:])
        assert "network guard" not in log
