"""`rag`: the command line. It parses, calls the library, prints; errors become one line and exit 2.

Heavy libraries load only inside the commands that need them, so `rag --help` is instant.
The CLI is the one edge that reaches `ui` (serve) and `eval` (eval); the library never does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from index.errors import UserError
from rag.errors import BadInput


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        raise BadInput(f"{message} (see `{self.prog} --help`)")


def _common(p: argparse.ArgumentParser) -> None:
    from rag.assistant import DEFAULT_CORPUS, DEFAULT_INDEX

    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of documents (default: %(default)s)")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: %(default)s)")


def _source_list(value: str) -> list[str]:
    """--sources "a.txt, b.md" -> ["a.txt", "b.md"]; an empty list is refused by the Assistant."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _shard_count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise argparse.ArgumentTypeError(f"--shards takes a whole number from 1 to 256, not {value!r}")
    return int(value)


def _ray_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help=f"{what} (default RAY_ADDRESS, else a local one); needs the [ray] extra",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Cited answers from your documents, offline.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("ingest", help="build or update the index")
    _common(p)
    p.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    p.add_argument(
        "--shards", type=_shard_count, default=None, metavar="N", help="split the index by document into N shards"
    )
    _ray_option(p, "read, count and embed on a Ray cluster")
    p = sub.add_parser("ask", help="answer a question with citations")
    _common(p)
    p.add_argument("question", nargs="?", help="the question (omit with --batch)")
    p.add_argument("--json", action="store_true", help="print the JSON object of the contract")
    p.add_argument("-k", type=int, default=None, help="passages to retrieve (1-50, default 5)")
    p.add_argument("--retrieval", choices=["hybrid", "dense", "bm25"], default=None)
    p.add_argument(
        "--sources",
        type=_source_list,
        default=None,
        metavar="A.txt,B.md",
        help="search and cite only these indexed documents (comma-separated; default: all)",
    )
    p.add_argument("--batch", type=Path, help='JSON lines of {"id", "question"}; one answer per line')
    p.add_argument(
        "--composer",
        choices=["extractive", "llm"],
        default="extractive",
        help="llm: an OpenAI-compatible endpoint (RAG_LLM_BASE_URL) writes the answer, verified against the passages",
    )
    _ray_option(p, "search each shard of the index in a Ray actor")
    p = sub.add_parser("serve", help="serve the chat UI")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--auth", metavar="USER:PASSWORD", help="require a login (default: --auth-file, else env RAG_AUTH, else none)"
    )
    p.add_argument("--auth-file", type=Path, metavar="FILE", help="read USER:PASSWORD from the file's first line")
    p.add_argument("--share", action="store_true", help="also serve through a public Gradio link (needs --auth)")
    p.add_argument("--feedback", type=Path, help="votes file (default: data/feedback.jsonl, kept by make clean)")
    _ray_option(p, "search each shard of the index in a Ray actor")
    p = sub.add_parser("mcp", help="serve the documents to an MCP client over stdio (tools ask and search)")
    _common(p)
    p = sub.add_parser("feedback", help="use the votes given in the chat UI")
    actions = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = actions.add_parser("export", help="the votes as JSON lines: answers voted up as draft gold pairs (eval format)")
    p.add_argument("--feedback", type=Path, help="votes file (default: data/feedback.jsonl)")
    p.add_argument(
        "--votes",
        choices=["up", "down", "all"],
        default="up",
        help="which latest votes to export, each with its comment (default: up, the draft gold pairs)",
    )
    p.add_argument("--out", type=Path, help="write the pairs here instead of to stdout")
    p = sub.add_parser("eval", help="score the assistant on gold question/answer pairs")
    _common(p)
    p.add_argument("--gold", type=Path, action="append", help="gold JSON lines, scored on --corpus")
    p.add_argument(
        "--suite",
        action="append",
        choices=[
            "report",
            "squad-dev",
            "squad-dev-open",
            "squad-train",
            "squad-train-open",
            "squad-val",
            "squad-val-open",
            "report+distractors",
            "covid-dev",
            "formats",
        ],
        help="built-in suite(s) (default: report)",
    )
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a setting"
    )
    p.add_argument("--compare", metavar="KEY=V1,V2,...", help="run each value of one setting side by side")
    p.add_argument("--reports", type=Path, default=Path(__file__).resolve().parent.parent / "eval" / "reports")
    p.add_argument(
        "--ablate",
        action="store_true",
        help="refit the answer selector without each feature in turn; show what each adds",
    )
    p.add_argument("--no-report", action="store_true", help="print the table only")
    p.add_argument("--squad", type=Path, metavar="FILE.json", help="a SQuAD 1.1/2.0 file: its articles and questions")
    p.add_argument("--articles", type=int, metavar="N", help="with --squad: the first N articles only")
    p.add_argument("--max-questions", type=int, metavar="N", help="with --squad or --beir: the first N questions")
    p.add_argument(
        "--beir", type=Path, metavar="DIR", help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)"
    )
    p.add_argument("--export", nargs=2, action="append", metavar=("ragas|trec", "FILE"), help="also write the run")
    p = sub.add_parser("train", help="fit the answer selector on squad-train (python -m eval.train)")
    _common(p)
    p.add_argument("--out", type=Path, help="selector JSON to write (default: the one shipped in rag/compose)")
    return parser


def _assistant(args, settings=None):
    from rag.assistant import Assistant, Settings

    ray = getattr(args, "ray", None)  # rag ask/serve --ray: shard searches held by Ray actors
    if ray is not None:
        from index.storage.distributed import connect

        connect(ray or None)  # before the model loads: without the extra, the install hint comes at once
    assistant = Assistant(args.corpus, args.index, settings or Settings())
    if ray is not None:
        assistant.on_ray(ray or None)
    return assistant


def _print_answer(answer) -> None:
    """The answer for a terminal: every name and text escaped, so a file name cannot send escape sequences."""
    from index.text.cleaning import printable as p

    print(p(answer.answer))
    if answer.notice:
        print(f"\n(note: {p(answer.notice)})")
    for u in answer.unverified or ():
        print(f"\nRemoved, not supported by the passages ({p(u.reason)}): {p(u.text)}")
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"  [{c.n}] {p(c.source)} § {p(c.section)} (chars {c.start}-{c.end})\n      {p(c.text)}")
    elif answer.passages:
        print("\nRelated reading:")
        for passage in answer.passages[:3]:
            chunk = passage.chunk
            snippet = " ".join(chunk.text.split())
            print(
                f"  - {p(chunk.source)} § {p(chunk.section)} (chars {chunk.start}-{chunk.end})\n"
                f"      {p(snippet[:200])}..."
            )


def _read_batch(path: Path) -> list[tuple[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read batch file {path}: {exc}") from None
    rows, seen = [], {}
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise BadInput(f"{path}:{no}: not valid JSON") from None
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise BadInput(f'{path}:{no}: expected an object with a "question" string')
        qid = str(row.get("id", no))
        if qid in seen:  # reported, still answered: the reader joins answers to questions by id
            print(f"rag: warning: {path}:{no}: id {_safe(qid)!r} repeats line {seen[qid]}", file=sys.stderr)
        seen.setdefault(qid, no)
        rows.append((qid, row["question"]))
    return rows


def _safe(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (from bytes that were not UTF-8) becomes U+FFFD."""
    from index.text.cleaning import has_surrogates

    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text) if has_surrogates(text) else text


def _check_text(question: str) -> None:
    """BadInput for a question holding bytes that were not UTF-8 (lone surrogates)."""
    from index.text.cleaning import has_surrogates

    if has_surrogates(question):
        raise BadInput("the question holds bytes that are not UTF-8 text; re-type it or fix the file's encoding")


def cmd_ingest(args) -> int:
    from index.storage.build import ingest
    from rag.assistant import Settings

    ray = None
    if args.ray is not None:
        from index.storage.distributed import RayOptions

        ray = RayOptions(args.ray or None)
    report = ingest(args.corpus, args.index, Settings().index, force=args.force, shards=args.shards, ray=ray)
    print(report.summary())
    return 0


def cmd_ask(args) -> int:
    from rag.assistant import check_k, check_question

    if args.k is not None:
        check_k(args.k)
    if args.composer == "llm":  # before the model loads: a missing RAG_LLM_BASE_URL is a usage error
        from rag.llm import LLMSettings

        LLMSettings.from_env()
    if args.batch is not None:
        if args.question:
            raise BadInput("give either a question or --batch FILE, not both")
        rows = _read_batch(args.batch)
        assistant = _assistant(args)
        for qid, question in rows:
            try:
                _check_text(question)
                answer = assistant.ask(
                    question, k=args.k, retrieval=args.retrieval, composer=args.composer, sources=args.sources
                )
                out = answer.to_json(_safe(qid))
            except BadInput as exc:
                out = {"id": _safe(qid), "question": _safe(question), "error": str(exc)}
            if args.json:
                print(json.dumps(out, ensure_ascii=False), flush=True)
            else:
                from index.text.cleaning import printable

                print(printable(out.get("answer", out.get("error"))), flush=True)
        return 0
    if args.question is None and args.ray:  # `rag ask --ray "Who chaired?"`: argparse gave the question to --ray
        raise BadInput(
            f"--ray took {args.ray!r} as its address and no question is left; put the question first: "
            f'rag ask "{args.ray}" --ray'
        )
    if args.question is None:
        raise BadInput('no question given; try: rag ask "Who chaired Session II?"')
    _check_text(args.question)
    check_question(args.question)
    answer = _assistant(args).ask(
        args.question, k=args.k, retrieval=args.retrieval, composer=args.composer, sources=args.sources
    )
    if args.json:
        print(json.dumps(answer.to_json("q1"), ensure_ascii=False))
    else:
        _print_answer(answer)
    return 0


def _auth_file(path: Path | None) -> str | None:
    """USER:PASSWORD from the first line of a file, so the password is in neither argv nor the environment."""
    if path is None:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read --auth-file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not lines or not lines[0].strip():
        raise BadInput(f"--auth-file {path} is empty; write USER:PASSWORD on its first line")
    return lines[0].strip()


def _auth(value: str | None) -> tuple[str, str] | None:
    """USER:PASSWORD as a pair, or None when not given."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise BadInput("--auth (or --auth-file, RAG_AUTH) must be USER:PASSWORD, both non-empty")
    return user, password


def port_busy(host: str, port: int) -> str | None:
    """Why (host, port) cannot be served on, in words, or None when it is free (checked before the model loads)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot serve on {host}: {exc.strerror or exc}"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a closing socket is no obstacle
        try:
            probe.bind(address)
        except OSError as exc:
            return f"port {port} on {host} is busy ({exc.strerror or exc})"
    return None


def _other_port(port: int) -> str:
    other = port + 1 if port < 65535 else 7861
    return f"use another port: make serve PORT={other} (or rag serve --port {other})"


def cmd_serve(args) -> int:
    if args.auth:  # every local user can read a process's arguments (ps); the environment is private to it
        print(
            "rag: warning: --auth puts the password where `ps` shows it; use --auth-file FILE or RAG_AUTH instead",
            file=sys.stderr,
        )
    auth = _auth(args.auth or _auth_file(args.auth_file) or os.environ.get("RAG_AUTH"))
    if args.share and auth is None:
        raise BadInput("--share makes the app public; add --auth USER:PASSWORD (or set RAG_AUTH) first")
    from ui.web import is_loopback

    if auth is None and not is_loopback(args.host):  # every machine that reaches the address could use it
        raise BadInput(
            f"--host {args.host} lets other machines reach the app; add --auth-file FILE (or set RAG_AUTH) first, "
            "or leave --host out to serve this machine only"
        )
    if not 0 < args.port < 65536:
        raise BadInput(f"--port must be from 1 to 65535, not {args.port}")
    busy = port_busy(args.host, args.port)
    if busy:
        raise BadInput(f"{busy}; {_other_port(args.port)}")
    from ui.app import serve

    # The OpenAI-compatible API's Bearer key: RAG_API_KEY, else the login's password.
    api_key = os.environ.get("RAG_API_KEY") or (auth[1] if auth else None)
    assistant = _assistant(args).warm_up()  # the first user's question does not pay for the encoder's first call
    try:
        serve(
            assistant,
            host=args.host,
            port=args.port,
            auth=auth,
            share=args.share,
            feedback_path=args.feedback,
            api_key=api_key,
        )
    except OSError as exc:  # taken while the index loaded: Gradio says "Cannot find empty port"
        if "empty port" not in str(exc):
            raise
        raise BadInput(f"port {args.port} on {args.host} is busy; {_other_port(args.port)}") from None
    return 0


def cmd_mcp(args) -> int:
    from rag.mcp_server import run

    run(_assistant(args))  # loaded (or built) before the first message, so a bad index fails here, not mid-call
    return 0


def cmd_feedback(args) -> int:
    from ui.feedback import DEFAULT_PATH, export, read

    source = args.feedback or DEFAULT_PATH
    votes = read(source)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in export(votes, args.votes))
    if args.out is None:
        sys.stdout.write(lines)
    else:
        try:
            args.out.write_text(lines, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write {args.out}: {exc}") from None
    what = "draft gold pair(s)" if args.votes == "up" else f"question(s) with a latest vote of {args.votes}"
    print(f"{lines.count(chr(10))} {what} from {len(votes)} vote(s) in {source}", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    if args.ablate:
        from eval.ablate import main as ablate_main

        return ablate_main(args.index)
    from eval.harness import main as eval_main

    return eval_main(args)


def cmd_train(args) -> int:
    from eval.train import main as train_main

    return train_main(["--index", str(args.index), *(["--out", str(args.out)] if args.out else [])])


COMMANDS = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "serve": cmd_serve,
    "mcp": cmd_mcp,
    "feedback": cmd_feedback,
    "eval": cmd_eval,
    "train": cmd_train,
}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UserError as exc:
        from index.text.cleaning import printable

        print(f"rag: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rag ask --batch ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 0
    except Exception as exc:  # an internal error: one line, unless asked for the traceback
        from index.errors import DISK_FULL, is_disk_full

        if is_disk_full(exc) and not os.environ.get("RAG_DEBUG"):  # a write outside the index (a report, votes)
            print(f"rag: error: {DISK_FULL}; free some space", file=sys.stderr)
            return 2
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"rag: internal error: {type(exc).__name__}: {exc} (set RAG_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
