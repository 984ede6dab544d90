"""The tests' fake Twilio (tests/messaging/fake_twilio.py) in a process of its own, for the SMS benches.

In a thread of the bench process, the fake shares the GIL with the bench's own work (its ORM queries, the
polling, the sweeps), so when a request is stamped would depend on the bench as much as on the sender. A
real provider is another machine; here it is at least another process. The bench asks it for what it
recorded over a pipe, incrementally.
"""

import contextlib
import multiprocessing


def _serve(connection, latency: float) -> None:
    from tests.messaging.fake_twilio import FakeTwilio

    with FakeTwilio(latency=latency) as twilio:
        connection.send((twilio.base_url, twilio.env()))
        while True:
            try:
                command, start = connection.recv()
            except EOFError:  # the bench went away
                return
            if command == "stop":
                return
            connection.send(twilio.sends()[start:])


class FakeTwilioProcess:
    """``with FakeTwilioProcess(latency=0.15) as twilio:``: ``env()``, ``base_url`` and ``sends()`` as FakeTwilio."""

    def __init__(self, *, latency: float = 0.0, timeout: float = 30.0):
        self.latency = latency
        self.timeout = timeout
        self.base_url = ""
        self._env: dict[str, str] = {}
        self._sends: list = []

    def __enter__(self) -> "FakeTwilioProcess":
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self.latency), name="fake-twilio", daemon=True)
        self._process.start()
        child.close()
        if not self._connection.poll(self.timeout):
            self._process.kill()
            raise RuntimeError("the fake Twilio process did not start")
        self.base_url, self._env = self._connection.recv()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):  # already gone
            self._connection.send(("stop", 0))
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._connection.close()

    def env(self) -> dict[str, str]:
        return dict(self._env)

    def sends(self) -> list:
        """Every POST to the Messages resource so far (tests.messaging.fake_twilio.Recorded), in arrival order."""
        self._connection.send(("sends", len(self._sends)))
        self._sends.extend(self._connection.recv())
        return list(self._sends)
