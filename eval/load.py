"""`make load`: the live chat server under concurrent API clients. A benchmark, not a test (issue #8, item 7).

1. Starts the real server (`ui.app.serve` in a child process on a free loopback port, over its own index
   folder) and asks every gold question of eval/gold.jsonl once through one client: the reference answers.
2. `--clients` gradio_client clients (one Client per thread, reused) ask them in a closed loop for
   `--minutes`: errors, answers that differ from the reference, server-side latency (the answer's
   `timings_ms.total`) beside the client's round trip, and the server's resident memory
   early and at the end, and its CPU time per answer early and late.
3. `--overflow-clients` clients submit at once against the bounded queue (`--queue-size` waiting places
   beside the app's 2 workers): the overflow must get the "queue is full" error quickly and none may hang.
Writes eval/reports/load-<stamp>/ (load.json, load.md, server.log), prints the table; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent
ROOT = EVAL_DIR.parent
GOLD = EVAL_DIR / "gold.jsonl"
K, MODE = 5, "hybrid"


def child_env() -> dict[str, str]:
    """The server's environment: offline, no Gradio analytics, unbuffered logs."""
    return dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB, from /proc (psutil is not a dependency)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A live server in a child process, its URL and its log file."""

    proc: subprocess.Popen
    url: str
    log: Path

    def usage(self) -> tuple[float, float]:
        """(resident MiB, CPU seconds so far)."""
        return rss_mib(self.proc.pid), cpu_s(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def start_server(
    argv: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 900
) -> Server:
    """Run `argv` plus `--port P` and wait until it serves its page; a child that dies says why (its log tail).

    The timeout is generous: loading the model and building an index on a busy 2-core machine takes minutes.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*argv, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env or child_env(), cwd=cwd
        )
    server = Server(proc, url, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {proc.returncode} before serving:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"the server did not answer on {url} within {timeout:.0f} s (log: {log})")


def serve_only(args) -> int:
    """The child: load the Assistant and serve with the requested queue size (blocks until killed)."""
    from rag.assistant import Assistant
    from ui.app import serve

    serve(Assistant(args.corpus, args.index), port=args.port, max_size=args.queue_size)
    return 0


# ---- clients ------------------------------------------------------------------------------------------


def gold_questions(path: Path = GOLD) -> list[tuple[str, str]]:
    """(id, question) of every gold pair."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["id"], r["question"]) for r in rows]


def comparable(answer: dict[str, Any]) -> str:
    """An answer without its timings, as canonical JSON: two runs of one question must give the same string."""
    return json.dumps({k: v for k, v in answer.items() if k != "timings_ms"}, sort_keys=True, ensure_ascii=False)


def client(url: str):
    """One gradio_client Client that downloads nothing and prints nothing.

    The URL is plain http on loopback, so there is no certificate to verify; without ssl_verify=False
    gradio_client loads the CA bundle again for every request, which doubled its CPU time per question
    on the two cores the server shares with it.
    """
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, ssl_verify=False)


def ask(c, question: str, timeout: float) -> dict[str, Any]:
    """One question through the `ask` API; a reply slower than `timeout` raises TimeoutError (a hang)."""
    job = c.submit(question, K, MODE, api_name="/ask")
    try:
        return job.result(timeout=timeout)
    except FutureTimeout:
        job.cancel()
        raise TimeoutError(f"no reply within {timeout:.0f} s") from None


def reference_answers(url: str, questions: list[tuple[str, str]], timeout: float) -> dict[str, str]:
    """Every question once, one after another, through one client: what every concurrent answer must equal."""
    c = client(url)
    try:
        return {qid: comparable(ask(c, q, timeout)) for qid, q in questions}
    finally:
        c.close()


@dataclass
class Sample:
    """One request of the closed loop."""

    qid: str
    at_s: float
    wall_ms: float
    server_ms: float | None = None
    error: str | None = None
    mismatch: bool = False


def closed_loop(url: str, questions, reference: dict[str, str], start: float, stop: float, offset: int, timeout):
    """One client asking question after question until `stop`, starting at its own offset in the list."""
    samples: list[Sample] = []
    c = client(url)
    i = offset
    try:
        while time.monotonic() < stop:
            qid, question = questions[i % len(questions)]
            i += 1
            t0 = time.monotonic()
            try:
                out = ask(c, question, timeout)
            except Exception as exc:  # counted, and the loop goes on: the report says which and how many
                samples.append(Sample(qid, t0 - start, (time.monotonic() - t0) * 1000, error=_why(exc)))
                continue
            wall = (time.monotonic() - t0) * 1000
            total = (out.get("timings_ms") or {}).get("total")
            samples.append(Sample(qid, t0 - start, wall, total, mismatch=comparable(out) != reference[qid]))
    finally:
        c.close()
    return samples


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


@dataclass
class Usage:
    """The server's RSS and CPU time sampled every few seconds while the loop runs: (s, MiB, CPU s)."""

    samples: list[tuple[float, float, float]] = field(default_factory=list)

    def run(self, server: Server, start: float, done: threading.Event, every: float = 2.0) -> None:
        while not done.is_set():
            self.samples.append((time.monotonic() - start, *server.usage()))
            done.wait(every)
        self.samples.append((time.monotonic() - start, *server.usage()))

    def at(self, seconds: float) -> tuple[float, float, float]:
        """The first sample taken at or after `seconds` (the last one if none)."""
        return next((s for s in self.samples if s[0] >= seconds), self.samples[-1])


def cpu_per_answer(usage: Usage, samples: list[Sample], start: float, stop: float) -> float | None:
    """Server CPU ms per answer completed between two times: what one answer costs, whatever else runs.

    Unlike wall time it does not grow when the machine is busy, so early and late windows compare.
    """
    (t0, _, c0), (t1, _, c1) = usage.at(start), usage.at(stop)
    done = sum(1 for s in samples if s.error is None and t0 <= s.at_s + s.wall_ms / 1000 < t1)
    return (c1 - c0) * 1000 / done if done else None


def run_concurrent(server: Server, questions, reference, clients: int, seconds: float, timeout: float):
    """The closed loop of `clients` threads for `seconds`, with the server's usage sampled beside it."""
    memory, done = Usage(), threading.Event()
    start = time.monotonic()
    sampler = threading.Thread(target=memory.run, args=(server, start, done), daemon=True)
    sampler.start()
    step = max(1, len(questions) // clients)
    with ThreadPoolExecutor(clients) as pool:
        futures = [
            pool.submit(closed_loop, server.url, questions, reference, start, start + seconds, i * step, timeout)
            for i in range(clients)
        ]
        samples = [s for f in futures for s in f.result()]
    elapsed = time.monotonic() - start
    done.set()
    sampler.join()
    return samples, memory, elapsed


def overflow(url: str, clients: int, question: str, timeout: float) -> list[dict[str, Any]]:
    """`clients` requests released at once, each from its own Client: what became of each and how fast."""
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: client(url), range(clients)))
    gate = threading.Barrier(clients)

    def one(c) -> dict[str, Any]:
        gate.wait()
        t0 = time.monotonic()
        try:
            ask(c, question, timeout)
            outcome, error = "answered", None
        except TimeoutError as exc:
            outcome, error = "hung", _why(exc)
        except Exception as exc:
            outcome = "busy" if "queue is full" in str(exc).lower() else "error"
            error = _why(exc)
        return {"outcome": outcome, "ms": (time.monotonic() - t0) * 1000, "error": error}

    try:
        with ThreadPoolExecutor(clients) as pool:
            return list(pool.map(one, made))
    finally:
        for c in made:
            c.close()


# ---- figures ------------------------------------------------------------------------------------------


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99 (nearest rank), or None when there is nothing to measure."""
    from eval.bench import percentile

    return {f"p{q}": (percentile(values, q) if values else None) for q in (50, 95, 99)}


def summarise_loop(samples: list[Sample], memory: Usage, elapsed: float) -> dict[str, Any]:
    ok = [s for s in samples if s.error is None]
    errors: dict[str, int] = {}
    for s in samples:
        if s.error:
            errors[s.error] = errors.get(s.error, 0) + 1
    window = min(60.0, elapsed / 5)
    early_at, early, _ = memory.at(window)
    end_at, end, _ = memory.samples[-1]
    return {
        "requests": len(samples),
        "answers_per_s": len(ok) / elapsed if elapsed else 0.0,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "mismatches": sum(s.mismatch for s in ok),
        "mismatched_ids": sorted({s.qid for s in ok if s.mismatch}),
        "server_ms": percentiles([s.server_ms for s in ok if s.server_ms is not None]),
        "round_trip_ms": percentiles([s.wall_ms for s in ok]),
        "rss_mib": {"early_at_s": early_at, "early": early, "end_at_s": end_at, "end": end},
        "rss_growth_pct": (end - early) / early * 100,
        "cpu_ms_per_answer": {
            "first_window": cpu_per_answer(memory, samples, 0, window),
            "last_window": cpu_per_answer(memory, samples, end_at - window, end_at),
            "window_s": window,
        },
    }


def summarise_overflow(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {k: sum(r["outcome"] == k for r in results) for k in ("answered", "busy", "error", "hung")}
    busy = [r["ms"] for r in results if r["outcome"] == "busy"]
    return {
        **counts,
        "busy_ms": {**percentiles(busy), "max": max(busy) if busy else None},
        "answered_max_ms": max((r["ms"] for r in results if r["outcome"] == "answered"), default=None),
        "errors": sorted({r["error"] for r in results if r["outcome"] in ("error", "hung")}),
        "busy_message": next((r["error"] for r in results if r["outcome"] == "busy"), None),
    }


def checks(r: dict[str, Any], busy_limit_s: float) -> dict[str, bool]:
    """The issue's pass criteria, each true or false."""
    loop, over = r["loop"], r["overflow"]
    slowest_busy = over["busy_ms"]["max"] or 0.0
    return {
        "no errors in the closed loop": loop["errors"] == 0,
        "answers identical to the sequential ones": loop["mismatches"] == 0,
        "RSS growth under 10%": loop["rss_growth_pct"] < 10,
        "the overflow got 'queue is full'": over["busy"] > 0,
        f"every busy reply within {busy_limit_s:g} s": slowest_busy <= busy_limit_s * 1e3,
        "no overflow request hung or failed otherwise": over["hung"] == 0 and over["error"] == 0,
        "the server answers after the overflow": r["after_overflow_ok"],
    }


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def table(r: dict[str, Any]) -> str:
    """The figures as Markdown."""
    cfg, loop, over, mem = r["config"], r["loop"], r["overflow"], r["loop"]["rss_mib"]
    cpu = loop["cpu_ms_per_answer"]
    s, w = loop["server_ms"], loop["round_trip_ms"]
    lines = [
        f"{cfg['clients']} clients, closed loop for {cfg['seconds']:.0f} s over {cfg['questions']} gold questions "
        f"(queue {cfg['queue_size']} waiting places, 2 workers; {r['machine']['cpus']} CPUs, "
        f"load average at start {r['machine']['load_average'][0]:.2f})",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests answered / errors | {loop['requests'] - loop['errors']} / {loop['errors']} |",
        f"| answers differing from the sequential run | {loop['mismatches']} |",
        f"| throughput | {loop['answers_per_s']:.1f} answers/s |",
        f"| server-side ms (timings_ms.total) p50 / p95 / p99 | {_ms(s['p50'])} / {_ms(s['p95'])} / {_ms(s['p99'])} |",
        f"| client round trip ms p50 / p95 / p99 | {_ms(w['p50'])} / {_ms(w['p95'])} / {_ms(w['p99'])} |",
        f"| server CPU ms per answer, first / last {cpu['window_s']:.0f} s | {_ms(cpu['first_window'])} / "
        f"{_ms(cpu['last_window'])} |",
        f"| server RSS at {mem['early_at_s']:.0f} s / at {mem['end_at_s']:.0f} s | {mem['early']:.1f} MiB / "
        f"{mem['end']:.1f} MiB ({loop['rss_growth_pct']:+.1f}%) |",
        f"| overflow: {cfg['overflow_clients']} at once: answered / busy / other error / hung | "
        f"{over['answered']} / {over['busy']} / {over['error']} / {over['hung']} |",
        f"| overflow: busy reply ms p50 / max | {_ms(over['busy_ms']['p50'])} / {_ms(over['busy_ms']['max'])} |",
        f"| overflow: slowest answer ms | {_ms(over['answered_max_ms'])} |",
        "",
        "| check | result |",
        "|---|---|",
        *(f"| {name} | {'pass' if ok else 'FAIL'} |" for name, ok in r["checks"].items()),
    ]
    if loop["error_kinds"] or over["errors"]:
        lines += ["", "Errors:", *(f"- {k} (x{n})" for k, n in loop["error_kinds"].items()), *over["errors"]]
    if loop["mismatched_ids"]:
        lines += ["", f"Answers that changed: {', '.join(loop['mismatched_ids'])}"]
    return "\n".join(lines)


# ---- the run ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()}


def run(args, out: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Every phase against one server; the server is stopped whatever happens."""
    index = args.index or Path(tempfile.mkdtemp(prefix="rag-load-index-"))
    argv = [sys.executable, "-m", "eval.load", "--serve-only", "--queue-size", str(args.queue_size)]
    argv += ["--corpus", str(args.corpus), "--index", str(index)]
    result: dict[str, Any] = {"machine": machine()}
    say(f"starting the server (index {index}) ...")
    server = start_server(argv, out / "server.log", cwd=ROOT)
    try:
        questions = gold_questions(args.gold)
        t0 = time.monotonic()
        reference = reference_answers(server.url, questions, args.timeout)
        say(f"sequential answers: {len(reference)} in {time.monotonic() - t0:.1f} s; closed loop ...")
        seconds = args.minutes * 60
        samples, memory, elapsed = run_concurrent(server, questions, reference, args.clients, seconds, args.timeout)
        result["loop"] = summarise_loop(samples, memory, elapsed)
        result["usage_samples"] = memory.samples
        say(f"closed loop: {len(samples)} requests in {elapsed:.0f} s; overflow with {args.overflow_clients} ...")
        result["overflow"] = summarise_overflow(overflow(server.url, args.overflow_clients, questions[0][1], 120))
        after = client(server.url)
        try:
            result["after_overflow_ok"] = (
                comparable(ask(after, questions[0][1], args.timeout)) == reference[questions[0][0]]
            )
        finally:
            after.close()
        result["samples"] = [asdict(s) for s in samples]
    finally:
        server.stop()
        if args.index is None:
            shutil.rmtree(index, ignore_errors=True)
    result["config"] = {
        "clients": args.clients,
        "seconds": elapsed,
        "questions": len(questions),
        "queue_size": args.queue_size,
        "overflow_clients": args.overflow_clients,
        "k": K,
        "retrieval": MODE,
    }
    result["checks"] = checks(result, args.busy_limit)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the closed loop")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the closed loop runs")
    parser.add_argument("--overflow-clients", type=int, default=64, help="clients released at once afterwards")
    parser.add_argument(
        "--queue-size", type=int, default=16, help="waiting places of the server's queue (the app's default is 64)"
    )
    parser.add_argument("--timeout", type=float, default=120, help="seconds after which a request counts as hung")
    parser.add_argument("--busy-limit", type=float, default=5, help="seconds within which 'queue is full' must come")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, help="index folder (default: a fresh temporary one, built at start)")
    parser.add_argument("--reports", type=Path, default=EVAL_DIR / "reports")
    parser.add_argument("--serve-only", action="store_true", help="just serve (the child process of a run)")
    parser.add_argument("--port", type=int, default=7860, help="with --serve-only")
    args = parser.parse_args(argv)
    os.environ.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    if args.serve_only:
        return serve_only(args)
    out = args.reports / f"load-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    result = run(args, out, lambda msg: print(msg, file=sys.stderr, flush=True))
    (out / "load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    text = table(result)
    (out / "load.md").write_text(f"# Load {out.name}\n\n{text}\n", encoding="utf-8")
    print(text)
    print(f"\nreport: {out / 'load.md'}")
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
