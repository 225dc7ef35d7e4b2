"""Import throughput: N synthetic JSONL articles (~400 words) end to end, vs a raw COPY/executemany baseline.

    .venv/bin/python -m bench.import_bench --db sqlite --n 100000
    .venv/bin/python -m bench.import_bench --db postgres --n 100000 [--database-url postgres://…/fs_bench_import]

The data and the SQLite database live in a temp dir (never in the repo). The import runs as a child process
(``manage.py import_corpus``: reading, validation, hashing, token counts, de-dup, outlets, progress rows), so its
peak RSS is measured alone (os.wait4). The baseline then loads the same rows, already prepared in memory, with
the fastest raw path of the backend (psycopg binary COPY on PostgreSQL, sqlite3 executemany on SQLite) into the same
emptied table: the physical limit of the database on this machine.

The untimed migrate before the import leaves the bytecode of the modules in ``__pycache__`` (see bytecode_cached);
``--compile-at-start`` runs the import with none.

The machine may be shared, so besides the wall time the bench prints the CPU seconds of each process (the
import, its parser process, the PostgreSQL backend, from wait4 and /proc), the CPU that *other* processes used
during the run (from /proc/stat) and the load average before and after: on a busy machine the wall time is
pessimistic and the CPU seconds are the comparable figures.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/fs_bench_import"
OUTLETS = ["The Daily Courier", "Morning Ledger", "Wire Service", "Evening Standard-Bearer", "Northern Post"]


# What real news text carries in nearly every paragraph: curly quotes and apostrophes, dashes, accented names, and
# (in quoted social-media posts, headlines of the web) emoji, some of them several code points (flags, skin tones, ZWJ).
ACCENTED = ["café", "naïve", "Zürich", "São Paulo", "Kyiv’s", "Erdoğan", "Gdańsk", "Ñuñoa", "Ōsaka", "résumé", "Müller"]
EMOJI = ["😀", "👍🏽", "🇺🇦", "🔥", "❤️", "👩‍👩‍👧", "🚀", "😢", "🤔", "📈"]
PUNCTUATION = ["—", "–", "…", "«", "»"]


def paragraph(rng: random.Random, vocab: list[str], n_words: int, *, realistic: bool) -> str:
    words = rng.choices(vocab, k=n_words)
    if realistic and rng.random() < 0.95:  # nearly every paragraph
        extras = ["it’s", rng.choice(ACCENTED), rng.choice(PUNCTUATION)] + ([rng.choice(EMOJI)] * (rng.random() < 0.8))
        for extra in extras:
            words.insert(rng.randrange(len(words)), extra)
        i = rng.randrange(len(words) - 3)
        words[i : i + 3] = ["“" + words[i], words[i + 1], words[i + 2] + ",” " + rng.choice(["she said", "he said"])]
    return " ".join(words)


def generate(
    path: Path, n: int, *, words: int, non_ascii: float, duplicates: float, seed: int, realistic: bool = True
) -> int:
    """Write n JSONL articles of ``words`` words in paragraphs of ~60 words. ``realistic`` (the default): nearly every
    paragraph has curly quotes, an apostrophe, an accented word, a dash and mostly an emoji; otherwise the older corpus
    (~30% with curly quotes, ``non_ascii`` with an accented word). ``duplicates`` repeat an earlier row."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(2, 10))) for _ in range(20000)]
    vocab += ["it's", "well-known", "U.S.", "co-operate", "2024", "said.", "(AP)", "—"]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            if i and rng.random() < duplicates:
                i = rng.randrange(i)  # same external_id and outlet as an earlier row
            if realistic:
                sizes = [60] * (words // 60) + ([words % 60] if words % 60 >= 4 else [])
                body = "\n\n".join(paragraph(rng, vocab, k, realistic=True) for k in sizes)
            else:
                body = " ".join(rng.choices(vocab, k=words))
                if i % 10 < 3:
                    body = body.replace(" it's ", " it’s ", 2) + " “quoted” end."
                if rng.random() < non_ascii:
                    body += " café naïve"
            row = {
                "outlet": OUTLETS[i % len(OUTLETS)],
                "title": f"Article {i}: " + " ".join(rng.choices(vocab, k=8)),
                "text": body,
                "url": f"https://news.example/{i}",
                "published_at": (start + timedelta(minutes=i)).isoformat(),
                "external_id": f"bench-{i}",
                "section": rng.choice(["world", "politics", "business"]),
            }
            written += fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return written


def rss_of_tree(pid: int) -> int:
    """Resident bytes of a process plus its direct children (the import and its parser process), from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if stat.parent.name == str(pid) or int(fields[1]) == pid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def process_cpu(pid: int) -> float | None:
    """utime + stime of a process in seconds, from /proc (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_cpu() -> float:
    """CPU seconds all cores of this machine have spent busy since boot (/proc/stat: everything but idle, iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def bytecode_cached(env: dict[str, str]) -> dict[str, str]:
    """``env`` for the untimed migrate before the import, which imports nearly every module the import does: it
    leaves their bytecode in ``__pycache__``, as any first run does and as the Docker image has it (compiled at
    build). Where PYTHONDONTWRITEBYTECODE is set (``make install`` installs with ``--no-compile``), each process
    of the import would otherwise compile the ~900 modules of Django, Celery, numpy and the project again: ~1.5 CPU
    seconds before the first row, while the other core idles, which is not the import's work. The import itself
    runs with the caller's environment (``--compile-at-start`` measures that cost)."""
    return {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}


def machine_description() -> str:
    """CPU model and count, for the record."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")  # fmt: skip
    return f"{os.cpu_count()} × {model}"


def load_average() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving one database (same machine), sampled from /proc.

    The backend of the import is found in pg_stat_activity and read every 0.1 s; the last 0.1 s before it
    exits can be missed, so the figure is a slight underestimate."""

    def __init__(self, admin_url: str, database: str) -> None:
        import psycopg

        self.conn = psycopg.connect(admin_url, autocommit=True)
        self.database, self.seen, self.last_lookup = database, {}, 0.0

    def sample(self) -> None:
        if time.perf_counter() - self.last_lookup > 0.5:
            self.last_lookup = time.perf_counter()
            rows = self.conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database])
            for (pid,) in rows.fetchall():
                self.seen.setdefault(pid, 0.0)
        for pid in self.seen:
            cpu = process_cpu(pid)
            if cpu is not None:
                self.seen[pid] = cpu  # a backend starts with ~0 CPU: its total is its last reading

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


@dataclass
class ChildRun:
    seconds: float  # wall, including the start of the process
    cpu: float  # CPU seconds of the child and its children (wait4)
    children_cpu: float  # of which its children (the parser process), sampled from /proc: a slight underestimate
    rss: int  # peak bytes (see run_child)
    output: str


def run_child(cmd: list[str], env: dict[str, str], server: ServerCpu | None = None) -> ChildRun:
    """Run a child and measure it (see ChildRun).

    ru_maxrss of wait4 is the largest single process; the import may run a parser process beside it, so the
    peak of their *sum* is sampled from /proc every 0.1 s and the larger of the two figures is reported.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""), daemon=True)
    reader.start()
    peak_sum, children_cpu = 0, {}
    while reader.is_alive():
        peak_sum = max(peak_sum, rss_of_tree(proc.pid))
        for child in children_of(proc.pid):
            children_cpu[child] = process_cpu(child) or children_cpu.get(child, 0.0)
        if server is not None:
            server.sample()
        reader.join(timeout=0.1)
    output = "".join(chunks)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(seconds, cpu, sum(children_cpu.values()), max(usage.ru_maxrss * 1024, peak_sum), output)


def baseline_rows(path: Path) -> list[tuple]:
    from ml.tokenise import count_tokens

    now = datetime.now(UTC)
    seen: set[tuple[str, str]] = set()
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if (r["outlet"], r["external_id"]) in seen:
                continue
            seen.add((r["outlet"], r["external_id"]))
            text = r["text"]
            rows.append((OUTLETS.index(r["outlet"]) + 1, r["title"], text, r["url"],
                         datetime.fromisoformat(r["published_at"]), "", "", r["external_id"],
                         hashlib.sha256(text.encode()).hexdigest(), count_tokens(text), None, None, False,
                         {"section": r["section"]}, now))  # fmt: skip
    return rows


COLUMNS = (
    "outlet_id, title, text, url, published_at, language, byline, external_id, content_hash, n_tokens, "
    "batch_id, cluster_id, is_wire_copy, metadata, created_at"
)


def baseline_postgres(url: str, rows: list[tuple]) -> tuple[float, float]:
    """(wall seconds, server backend CPU seconds) of one binary COPY of ``rows`` (the import's own COPY format)."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE corpus_article, corpus_outlet CASCADE")
        types = dict(conn.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
                                  "'corpus_article'::regclass AND attnum > 0").fetchall())  # fmt: skip
        for i, name in enumerate(OUTLETS, start=1):
            conn.execute("INSERT INTO corpus_outlet (id, name, slug, country, language, leaning, homepage, "
                         "is_wire_agency, created_at, time_zone) VALUES (%s, %s, %s, '', '', '', '', false, now(), '')",
                         (i, name, f"baseline-{i}"))  # fmt: skip
        conn.commit()
        started, server_started = time.perf_counter(), process_cpu(conn.info.backend_pid) or 0.0
        with conn.cursor() as cur, cur.copy(f"COPY corpus_article ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([int(types[column.strip()]) for column in COLUMNS.split(",")])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started, (process_cpu(conn.info.backend_pid) or 0.0) - server_started


def baseline_sqlite(db_path: Path, rows: list[tuple]) -> float:
    import sqlite3

    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("DELETE FROM corpus_article")
    conn.execute("DELETE FROM corpus_outlet")
    conn.executemany(
        "INSERT INTO corpus_outlet (id, name, slug, country, language, leaning, homepage, is_wire_agency, created_at)"
        " VALUES (?, ?, ?, '', '', '', '', 0, '2024-01-01')",
        [(i, name, f"baseline-{i}") for i, name in enumerate(OUTLETS, start=1)],
    )
    conn.commit()
    prepared = [
        (*r[:4], r[4].isoformat(" ")[:26], *r[5:13], json.dumps(r[13]), r[14].isoformat(" ")[:26]) for r in rows
    ]
    started = time.perf_counter()
    conn.executemany(f"INSERT INTO corpus_article ({COLUMNS}) VALUES ({', '.join('?' * 15)})", prepared)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def report(
    args: argparse.Namespace,
    size: int,
    run: ChildRun,
    server: ServerCpu | None,
    *,
    load: tuple[str, str],
    machine_busy: float,
) -> None:
    """Print the import's figures: wall and CPU time of each process, and how busy the machine was."""
    summary = [line for line in run.output.splitlines() if line.startswith("Import ")]
    rate = args.n / run.seconds
    server_cpu = server.seconds if server is not None else 0.0
    ours = run.cpu + server_cpu
    print(f"machine: {machine_description()}; started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    bytecode = "every module compiled at start" if args.compile_at_start else "bytecode cached"
    print(f"backend: {args.db}; {args.n:,} articles, {size / 1e6:,.0f} MB of JSONL, batch size {args.batch_size}; "
          f"{bytecode}")  # fmt: skip
    print(summary[-1] if summary else run.output[-2000:])
    print(f"import_corpus: {run.seconds:.1f} s wall (incl. process start) = {rate:,.0f} articles/s; "
          f"peak RSS {run.rss / 2**20:,.0f} MB (import + parser process)")  # fmt: skip
    print(f"CPU: import process {run.cpu - run.children_cpu:.1f} s + parser process {run.children_cpu:.1f} s"
          + (f" + PostgreSQL backend {server_cpu:.1f} s" if server is not None else " (SQLite: in the import process)")
          + f" = {ours:.1f} s = {args.n / ours:,.0f} articles per CPU-second")  # fmt: skip
    others = max(0.0, machine_busy - ours)
    print(f"machine during the run: {machine_busy:.1f} busy CPU-s on {os.cpu_count()} cores in {run.seconds:.1f} s, "
          f"of which other processes {others:.1f} s ({others / run.seconds:.1f} cores); "
          f"load average (1/5/15 min) {load[0]} before, {load[1]} after")  # fmt: skip
    if others / run.seconds > 0.25:
        print(
            "NOTE: the machine was not quiet (other processes used over a quarter of a core): the wall time "
            "and articles/s are pessimistic; the CPU seconds are the comparable figures."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the older corpus: one paragraph, 30%% with curly quotes, --non-ascii with an accented word, no emoji",
    )
    parser.add_argument("--non-ascii", type=float, default=0.1, help="with --plain: share with an accented word")
    parser.add_argument("--duplicates", type=float, default=0.01, help="share of rows repeating an earlier one")
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database (dropped and re-created)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--compile-at-start",
        action="store_true",
        help="run the import with an empty bytecode cache: its processes first compile every module they import, the "
        "standard library's too",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "articles.jsonl"
        size = generate(
            data, args.n, words=args.words, non_ascii=args.non_ascii, duplicates=args.duplicates, seed=7,
            realistic=not args.plain,
        )  # fmt: skip
        env = {**os.environ, "FRAMESCOPE_DATA_DIR": str(tmpdir / "var"), "PYTHONPATH": str(ROOT)}
        env.pop("DATABASE_URL", None)
        if args.db == "postgres":
            import psycopg

            admin_url, _, name = args.database_url.rpartition("/")
            with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            env["DATABASE_URL"] = args.database_url
        run_child([sys.executable, "manage.py", "migrate", "-v0"], bytecode_cached(env))
        if args.compile_at_start:
            env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(tmpdir / "no-bytecode")}
        server = ServerCpu(f"{admin_url}/postgres", name) if args.db == "postgres" else None
        cmd = [sys.executable, "manage.py", "import_corpus", str(data), "--batch-size", str(args.batch_size)]
        load_before, busy_before = load_average(), machine_busy_cpu()
        run = run_child(cmd, env, server)
        load_after, machine_busy = load_average(), machine_busy_cpu() - busy_before
        report(args, size, run, server, load=(load_before, load_after), machine_busy=machine_busy)
        rate = args.n / run.seconds
        if args.no_baseline:
            return
        rows = baseline_rows(data)
        if args.db == "postgres":
            (base_seconds, base_server_cpu), label = baseline_postgres(args.database_url, rows), "psycopg binary COPY"
            print(f"baseline COPY: server backend CPU {base_server_cpu:.1f} s")
        else:
            base_seconds, label = baseline_sqlite(tmpdir / "var" / "framescope.sqlite3", rows), "sqlite3 executemany"
        base_rate = len(rows) / base_seconds
        print(f"baseline ({label} of the same {len(rows):,} prepared rows): {base_seconds:.1f} s = "
              f"{base_rate:,.0f} rows/s; import/baseline = {rate / base_rate:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
