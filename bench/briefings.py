"""Briefings at conference scale: freeze and queue a briefing to every delegate, then deliver it at 10 and 50/s.

    .venv/bin/python -m bench briefings [--runs 3] [--seconds 30] [--rates 10,50] [--workers 2] [--concurrency 8]

Database: BENCH_BRIEFINGS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cardvote_bench_briefings,
created if missing and emptied by the bench: never the app's DATABASE_URL). If that PostgreSQL does not answer,
a SQLite file in a temporary folder, and the bench says so. Broker, cache and rate limiter: a redis-server of the
bench's own on a free port (emptied between phases); without the redis-server binary, the embedded broker (said
so). Twilio is the tests' fake on 127.0.0.1 answering after 150 ms; the bench refuses to start if the
environment points SMS_BACKEND=twilio at the real API.

1. Freeze + queue, at seed_demo scale 1 and 4: every demo delegate is given a mobile and SMS consent (the demo
   gives only some delegates one of the 1,000 Ofcom drama numbers, +447700900xxx; the bench numbers the rest
   on from +447700901000 in its own database), then `send_briefing` to everyone: the audience frozen in one
   bulk insert, the outbox rows written, the dispatcher task published after commit. Median of --runs, each a
   new briefing; no worker runs in this phase, so nothing is sent. The aim: under 1 s at scale 1 and linear
   (time ratio scale 4 ÷ scale 1 no more than 1.2 × the ratio of recipients).
2. Delivery, on a fresh scale-1 conference whose first 1,000 delegates hold the drama numbers: for each rate a
   briefing to whole delegations adding up to about rate × --seconds recipients (at most 1,000, all in the
   drama range, checked before sending: 300 at 10/s, 1,000 at 50/s), sent through --workers real
   `celery -A config worker` processes with SMS_RATE_PER_SECOND at that rate, the sweeper run every 30 s as
   beat would. Counted at the fake Twilio by outbox id (each request's status-callback URL carries it):
   achieved ÷ configured rate (accepted segments over the span from first to last), the most in any one-second
   window (never above the rate), duplicates and lost (both 0).

It prints one table (figure, value, target, pass/short). Timings are never asserted; exit status 1 only if a
text was sent twice or never.
"""

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.sms_outbox import ensure_database
from bench.table import record

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cardvote_bench_briefings"
SWEEP_EVERY_SECONDS = 30  # as celery beat would
DRAMA_NUMBERS = 1000  # +447700900000–900999: the only numbers the delivery phase texts, even at the fake Twilio
LINEAR_SLACK = 1.2  # "roughly linear": time may grow at most 1.2 × as fast as the audience
BODY = "Hi {first_name} ({organisation}): composite 3 is up after lunch. Please vote FOR."


@dataclass
class Figure:
    """One line of the table: what was measured, the value shown, its target, and whether it was met."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: shown for information, no target

    @property
    def mark(self) -> str:
        return "" if self.ok is None else ("pass" if self.ok else "short")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench briefings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="freeze + queue runs per scale (median; default 3)")
    parser.add_argument("--scales", default="1,4", help="seed_demo scales for freeze + queue (default 1,4)")
    parser.add_argument("--rates", default="10,50", help="SMS_RATE_PER_SECOND values to deliver at (default 10,50)")
    parser.add_argument(
        "--seconds", type=float, default=30, help="delivery run length: recipients = rate × seconds (default 30)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="pool size per worker (default 8: at 150 ms a request 50/s needs 8 in flight, plus those waiting)",
    )
    parser.add_argument("--latency", type=float, default=0.15, help="fake Twilio's answer time in seconds")
    args = parser.parse_args(argv)
    try:
        args.scales = [int(s) for s in args.scales.split(",") if s.strip()]
        args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error("--scales and --rates take comma-separated numbers, e.g. --rates 10,50")
    if not all(1 <= s <= 10 for s in args.scales) or not all(0 < r <= 200 for r in args.rates):
        parser.error("scales 1–10, rates above 0 and at most 200")
    if args.runs < 1 or args.workers < 1 or args.concurrency < 1 or not 1 <= args.seconds <= 300:
        parser.error("runs, workers and concurrency ≥ 1; seconds 1–300")
    return args


def refuses_real_twilio(environ=os.environ) -> str:
    """A reason to refuse if the environment aims the twilio backend at the real API, else ''."""
    if environ.get("SMS_BACKEND", "").strip().lower() != "twilio":
        return ""
    host = urllib.parse.urlsplit(environ.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        return f"SMS_BACKEND=twilio points at {host}: the bench only ever texts its own fake Twilio. Unset it."
    return ""


def choose_database(tmp: Path) -> tuple[str, str]:
    """The bench's database URL and how to describe it: its own PostgreSQL database, else a SQLite file."""
    url = os.environ.get("BENCH_BRIEFINGS_DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        ensure_database(url)
    except Exception as exc:  # psycopg missing or the server does not answer
        print(f"bench briefings: PostgreSQL at {url} is not available ({type(exc).__name__}); falling back to SQLite.")
        return f"sqlite:///{tmp / 'bench-briefings.sqlite3'}", "SQLite (fallback)"
    return url, "PostgreSQL"


def main(argv=None) -> int:
    args = parse_args(argv)
    if reason := refuses_real_twilio():
        print(f"bench briefings: refusing to run. {reason}")
        return 2
    sys.path.insert(0, str(BASE_DIR))
    from bench.fake_twilio_process import FakeTwilioProcess
    from tests.support.celery_worker import worker_environment
    from tests.support.redis_server import RedisServer

    lifetime = 1800  # every process the bench starts is SIGKILLed by then, whatever happens to the bench
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cardvote-bench-briefings-")))
        database_url, database_kind = choose_database(tmp)
        redis_server = None
        if shutil.which("redis-server"):
            redis_server = stack.enter_context(RedisServer(workdir=tmp / "redis", lifetime=lifetime))
            broker_kind = "own redis-server"
        else:
            print("bench briefings: no redis-server binary; falling back to the embedded broker (files in a tmp dir).")
            broker_kind = "embedded broker (fallback)"
        twilio = stack.enter_context(FakeTwilioProcess(latency=args.latency))
        env = worker_environment(
            database_url=database_url,
            redis_url=redis_server.url() if redis_server else "",
            var_dir=tmp / "var",
            rate=max(args.rates),
            extra={**twilio.env(), "TWILIO_TIMEOUT_SECONDS": "5", "LOG_LEVEL": "warning"},
        )
        (tmp / "var").mkdir()
        os.environ.update(env)  # this process freezes, queues and sweeps with the workers' settings

        import django

        django.setup()
        from django.conf import settings

        # Belt and braces: the settings Django actually read must aim at the fake on this machine.
        if settings.SMS_BACKEND != "twilio" or twilio.base_url != settings.TWILIO_API_BASE_URL:
            print("bench briefings: the settings do not point at the bench's fake Twilio; refusing to run.")
            return 2
        expected_name = database_url.rsplit("/", 1)[-1]
        if not str(settings.DATABASES["default"]["NAME"]).endswith(expected_name):
            print(f"bench briefings: Django is configured for another database than {expected_name}; run it alone.")
            return 2

        print(
            f"Briefings bench: {database_kind}, {broker_kind}, fake Twilio at {args.latency * 1000:.0f} ms",
            flush=True,
        )
        bench = Bench(args=args, env=env, tmp=tmp, twilio=twilio, redis_server=redis_server)
        figures = bench.freeze_and_queue() + bench.delivery()
        print()
        print(
            f"Briefings ({database_kind}, {broker_kind}; {args.workers} workers × {args.concurrency}, "
            f"fake Twilio {args.latency * 1000:.0f} ms)"
        )
        print_table(figures)
        for figure in figures:  # into `make bench`'s one table
            record("briefings", figure.name, figure.value, figure.target, figure.ok)
        return 1 if bench.sent_wrong else 0


def print_table(figures: list[Figure]) -> None:
    widths = [max(len(getattr(f, attr)) for f in figures) for attr in ("name", "value", "target")]
    print(f"  {'figure':<{widths[0]}}  {'value':<{widths[1]}}  {'target':<{widths[2]}}  result")
    for f in figures:
        print(f"  {f.name:<{widths[0]}}  {f.value:<{widths[1]}}  {f.target:<{widths[2]}}  {f.mark}".rstrip())


class Bench:
    def __init__(self, *, args, env, tmp, twilio, redis_server):
        self.args = args
        self.env = env
        self.tmp = tmp
        self.twilio = twilio
        self.redis_server = redis_server
        self.sent_wrong = False  # a duplicate or a lost text in any delivery run

    # --- the database -------------------------------------------------------------------------------------------
    def fresh_conference(self, scale: int):
        """An empty schema, migrated, with the demo at ``scale`` and every delegate numbered and consenting."""
        from django.core.management import call_command
        from django.db import connection

        from delegates.models import Conference

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            connection.close()
            Path(connection.settings_dict["NAME"]).unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
        call_command("seed_demo", "--scale", str(scale), stdout=io.StringIO())
        conference = Conference.current()
        number_every_delegate(conference)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return conference

    def empty_broker(self) -> None:
        """Drop whatever the broker holds and the rate limiter's bookings: the bench's own, nobody else's."""
        if self.redis_server is not None:
            import redis

            with redis.Redis.from_url(self.redis_server.url()) as client:
                client.flushdb()
        else:
            from config.celery import app

            app.control.purge()
            for state in (self.tmp / "var").glob("*ratelimit*.state"):
                state.unlink()

    # --- 1. freeze + queue --------------------------------------------------------------------------------------
    def freeze_and_queue(self) -> list[Figure]:
        from delegates.models import Delegate
        from lobbying import briefings
        from tests.factories import CoordinatorFactory

        results = {}
        for scale in self.args.scales:
            conference = self.fresh_conference(scale)
            coordinator = CoordinatorFactory(username="bench")
            delegates = Delegate.objects.for_conference(conference).count()
            times, recipients = [], 0
            for _ in range(self.args.runs):
                briefing = briefings.compose_briefing(conference=conference, body=BODY, created_by=coordinator)
                started = time.perf_counter()
                result = briefings.send_briefing(briefing=briefing, sent_by=coordinator)
                times.append(time.perf_counter() - started)
                recipients = result.recipients
                assert result.queued == recipients, result  # nobody opted out in the bench's conference
            self.empty_broker()  # no worker has run: the queued texts die with the schema
            results[scale] = (statistics.median(times), recipients, delegates)
            print(
                f"  scale {scale}: {recipients} of {delegates} delegates frozen and queued in "
                f"{', '.join(f'{t:.2f}' for t in times)} s",
                flush=True,
            )

        figures = []
        for scale, (seconds, recipients, _delegates) in results.items():
            first = scale == self.args.scales[0]
            figures.append(
                Figure(
                    f"freeze + queue, scale {scale} ({recipients} texts)",
                    f"{seconds:.2f} s",
                    "< 1 s" if scale == 1 else "",
                    seconds < 1 if scale == 1 else None,
                )
            )
            if not first:
                base_seconds, base_recipients, _ = results[self.args.scales[0]]
                time_ratio, data_ratio = seconds / base_seconds, recipients / base_recipients
                figures.append(
                    Figure(
                        f"freeze + queue time, scale {scale} ÷ scale {self.args.scales[0]}",
                        f"{time_ratio:.2f}× (data {data_ratio:.2f}×)",
                        f"≤ {LINEAR_SLACK:g} × data",
                        time_ratio <= LINEAR_SLACK * data_ratio,
                    )
                )
        return figures

    # --- 2. delivery --------------------------------------------------------------------------------------------
    def delivery(self) -> list[Figure]:
        from tests.factories import CoordinatorFactory

        conference = self.fresh_conference(1)
        coordinator = CoordinatorFactory(username="bench")
        figures = []
        for rate in self.args.rates:
            self.empty_broker()
            figures += self.deliver_at(rate, conference=conference, coordinator=coordinator)
        return figures

    def deliver_at(self, rate: float, *, conference, coordinator) -> list[Figure]:
        from lobbying import briefings
        from messaging.models import OutboundMessage
        from messaging.phones import is_fictional
        from messaging.tasks import sweep_outbox
        from tests.messaging.fake_twilio import segments_of
        from tests.support.celery_worker import running_workers

        wanted = min(round(rate * self.args.seconds), DRAMA_NUMBERS)
        organisations = delegations_adding_up_to(conference, wanted)
        briefing = briefings.compose_briefing(
            conference=conference, body=BODY, created_by=coordinator, organisations=organisations
        )
        numbers = list(briefings.audience(briefing).values_list("mobile", flat=True))
        if not numbers or not all(is_fictional(n) for n in numbers):
            raise SystemExit("bench briefings: the delivery sample is not all in Ofcom's drama range; not sending.")

        names = [f"brief{i + 1}" for i in range(self.args.workers)]
        env = {**self.env, "SMS_RATE_PER_SECOND": str(rate)}
        print(
            f"  {rate:g}/s: {len(numbers)} recipients through {self.args.workers} workers × {self.args.concurrency} …",
            flush=True,
        )
        patience = len(numbers) / rate * 2 + 60
        with running_workers(
            names, env, log_dir=self.tmp, concurrency=self.args.concurrency, lifetime=patience + 120
        ) as workers:
            seen_before = len(self.twilio.sends())
            started_at = time.time()
            started = time.monotonic()
            briefings.send_briefing(briefing=briefing, sent_by=coordinator)
            queued = time.monotonic() - started
            ids = set(
                OutboundMessage.objects.filter(
                    idempotency_key__in=briefing.recipients.values("idempotency_key")
                ).values_list("pk", flat=True)
            )
            open_statuses = [
                OutboundMessage.Status.QUEUED,
                OutboundMessage.Status.SENDING,
                OutboundMessage.Status.UNKNOWN,
            ]
            deadline, next_sweep, sweeps = started + patience, started + SWEEP_EVERY_SECONDS, []
            while time.monotonic() < deadline:
                time.sleep(0.5)
                accepted_ids = {message_id(r) for r in self.twilio.sends()[seen_before:] if r.status == 201}
                pending = OutboundMessage.objects.filter(pk__in=ids, status__in=open_statuses).exists()
                if ids <= accepted_ids and not pending:
                    break
                if not all(w.alive for w in workers):
                    print("  a worker died; see its log:", [str(w.log_path) for w in workers if not w.alive])
                    break
                if time.monotonic() >= next_sweep:
                    sweeps.append(sweep_outbox())
                    next_sweep += SWEEP_EVERY_SECONDS
            took = time.monotonic() - started
            time.sleep(1)  # anything still in flight would show up as a duplicate now

        sends = [r for r in self.twilio.sends()[seen_before:] if r.at >= started_at]
        accepted = [r for r in sends if r.status == 201]
        per_id = Counter(message_id(r) for r in accepted)
        per_text = Counter((r.to, r.params.get("Body")) for r in accepted)
        duplicates = sum(n - 1 for n in per_id.values() if n > 1) + sum(n - 1 for n in per_text.values() if n > 1)
        lost = len(ids - set(per_id))
        strangers = len(set(per_id) - ids)  # texts at the fake Twilio that are not this briefing's
        # SMS_RATE_PER_SECOND counts segments, as Twilio's throughput does: a text of two segments counts twice
        # (a number's first campaign text carries the privacy-notice line, so many texts here are two).
        accepted = sorted(accepted, key=lambda r: r.at)
        times = [r.at for r in accepted]
        segments = [segments_of(r.params.get("Body", "")) for r in accepted]
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        achieved = (sum(segments) - segments[-1]) / span if span else 0.0
        texts_per_second = (len(times) - 1) / span if span else 0.0
        busiest = max_segments_in_any_window(times, segments)
        if busiest > rate:  # show how the window filled: requests late by more than the limiter's window margin
            crowded = busiest_window(times)
            print(
                f"    busiest window (ms after the first request): {[round((t - min(times)) * 1000) for t in crowded]}"
            )
        statuses = Counter(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))
        self.sent_wrong = self.sent_wrong or bool(duplicates or lost or strangers)
        print(
            f"    queued in {queued:.2f} s, all sent after {took:.1f} s; requests {len(sends)}, "
            f"statuses {dict(statuses)}, sweeps {len(sweeps)} (re-queued {sum(s['requeued'] for s in sweeps)})",
            flush=True,
        )
        label = f"{rate:g}/s, {len(ids)} texts ({sum(segments)} segments):"
        return [
            Figure(f"{label} achieved ÷ configured", f"{achieved / rate:.3f} ({achieved:.1f} segments/s, "
                   f"{texts_per_second:.1f} texts/s)", "≥ 0.95", achieved / rate >= 0.95),
            Figure(f"{label} busiest 1 s window (segments)", str(busiest), f"≤ {rate:g}", busiest <= rate),
            Figure(f"{label} duplicates", str(duplicates + strangers), "0", not (duplicates or strangers)),
            Figure(f"{label} lost", str(lost), "0", not lost),
        ]  # fmt: skip


def max_segments_in_any_window(times, segments, window: float = 1.0) -> int:
    """The most segments sent in any half-open window of ``window`` seconds (times sorted, segments alike)."""
    best, start, inside = 0, 0, 0
    for end, t in enumerate(times):
        inside += segments[end]
        while t - times[start] >= window:
            inside -= segments[start]
            start += 1
        best = max(best, inside)
    return best


def busiest_window(times, window: float = 1.0) -> list[float]:
    """The timestamps in the fullest half-open window of ``window`` seconds (max_in_any_window's, listed)."""
    times = sorted(times)
    best, start = (0, 0), 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        if end - start + 1 > best[1] - best[0]:
            best = (start, end + 1)
    return times[best[0] : best[1]]


def message_id(request) -> int | None:
    """The outbox id a request to the fake Twilio was for: its status-callback URL carries it (?message=<id>)."""
    query = urllib.parse.urlsplit(request.params.get("StatusCallback", "")).query
    values = urllib.parse.parse_qs(query).get("message")
    return int(values[0]) if values and values[0].isdigit() else None


def number_every_delegate(conference) -> None:
    """Give every delegate of the conference a mobile and live SMS consent, in the bench's own database.

    Numbered in delegation order (organisation, then delegate) from +447700900000: the first 1,000 are Ofcom's
    drama range, the only ones the delivery phase ever texts; the rest (+447700901000 on, at scale 4) are only
    queued, never sent (no worker runs then, and the broker is emptied before one does).
    """
    from django.db import connection

    from delegates.demo import CONSENT_WORDING
    from delegates.models import Delegate, SmsConsent

    with connection.cursor() as cursor:
        # Two steps: clearing first keeps the (conference, mobile) unique constraint true after every row.
        cursor.execute("UPDATE delegates_delegate SET mobile = '' WHERE conference_id = %s", [conference.pk])
        cursor.execute(
            """UPDATE delegates_delegate SET mobile = '+447700' || CAST(900000 + numbered.n AS TEXT)
               FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY organisation_id, id) - 1 AS n
                     FROM delegates_delegate WHERE conference_id = %s) AS numbered
               WHERE delegates_delegate.id = numbered.id""",
            [conference.pk],
        )
    live = SmsConsent.objects.filter(withdrawn_at__isnull=True).values("delegate_id")
    without_consent = Delegate.objects.filter(conference=conference).exclude(pk__in=live)
    SmsConsent.objects.bulk_create(
        [
            SmsConsent(delegate_id=pk, method=SmsConsent.Method.WEB_FORM, wording=CONSENT_WORDING)
            for pk in without_consent.values_list("pk", flat=True)
        ],
        batch_size=1000,
    )


def delegations_adding_up_to(conference, wanted: int) -> list:
    """Whole delegations, in numbering order, with at most ``wanted`` textable delegates in all (all of them
    drama-range numbers when ``wanted`` ≤ 1,000): a briefing's audience of about the size asked for."""
    from delegates.models import Delegate, Organisation

    counts = Counter(Delegate.objects.for_conference(conference).textable().values_list("organisation_id", flat=True))
    chosen, total = [], 0
    for organisation_id in sorted(counts):
        if total + counts[organisation_id] > wanted:
            break
        chosen.append(organisation_id)
        total += counts[organisation_id]
    return list(Organisation.objects.filter(pk__in=chosen))


if __name__ == "__main__":
    sys.exit(main())
