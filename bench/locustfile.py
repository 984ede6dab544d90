"""Locust users for `python -m bench http` (bench/http_load.py): volunteers on /shifts/, coordinators on the dashboard.

Coordinators log in once (the real login form, CSRF and all), then load the dashboard and poll its live whip
fragment as the open page does. Volunteers load the public shift list. Credentials come from the environment the
bench sets; nothing here reaches beyond 127.0.0.1.
"""

import os
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Volunteer(HttpUser):
    weight = 3
    wait_time = between(0.5, 1.5)

    @task
    def shift_list(self):
        self.client.get("/shifts/", name="/shifts/")


class Coordinator(HttpUser):
    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self):
        page = self.client.get("/login/", name="/login/ (once per user)")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/login/",
            {"username": os.environ["BENCH_HTTP_USER"], "password": os.environ["BENCH_HTTP_PASSWORD"],
             "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/login/"},
            name="/login/ (once per user)",
        )  # fmt: skip

    @task(2)
    def dashboard(self):
        with self.client.get("/", name="/ (dashboard)", catch_response=True) as response:
            if "Whip count" not in response.text:
                response.failure("not the dashboard (logged out?)")

    @task(3)
    def whip_live(self):
        self.client.get("/lobbying/whip/live/", name="/lobbying/whip/live/ (polled)")
