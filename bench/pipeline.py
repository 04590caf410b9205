"""Per-record cost of the listing pipeline, without the network, the emulator or process start-up.

The streaming benchmark includes the emulator generating pages, and its runs vary with the machine;
this one feeds both clients the same pages (fetched once from the emulator) through a transport
adapter that answers from memory, and times, in this process, rcauth's `ApiClient.paginate` into
`output.write_records(..., "ndjson")` against the bare requests loop of
`baselines/requests_call_log.py`, alternating, writing to /dev/null.
Prints JSON: microseconds a record, median and best of the runs.

    python bench/pipeline.py --server URL --token-file FILE [--runs 12]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from typing import Any

import requests
from baselines.requests_call_log import write_call_log
from requests.adapters import BaseAdapter
from requests.models import PreparedRequest, Response

from rcauth.client import ApiClient
from rcauth.output import write_records
from rcauth.session import Session
from rcauth.store import MemoryStore

PATH = "/restapi/v1.0/account/~/extension/~/call-log"
DATE_FROM = "2000-01-01T00:00:00.000Z"


class Canned(BaseAdapter):
    """Answers each URL with the body the emulator gave for it."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        super().__init__()
        self.bodies = bodies

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:
        response = Response()
        response.status_code = 200
        response.raw = io.BytesIO(self.bodies[request.url or ""])
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def fetch_pages(server: str, token: str) -> dict[str, bytes]:
    bodies: dict[str, bytes] = {}
    url: str | None = server + PATH
    params: dict[str, str] | None = {"dateFrom": DATE_FROM, "perPage": "1000"}
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        while url:
            response = http.get(url, params=params, timeout=60)
            response.raise_for_status()
            bodies[response.url] = response.content
            url, params = (response.json().get("navigation") or {}).get("nextPage", {}).get("uri"), None
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()
    with open(args.token_file, encoding="utf-8") as fh:
        token = json.load(fh)
    bodies = fetch_pages(args.server, token["access_token"])
    records = sum(len(json.loads(b)["records"]) for b in bodies.values())
    out = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run

    def rcauth() -> None:
        store = MemoryStore()
        session = Session.from_token_response(token, server=args.server, client_id="c", client_secret=None)
        store.save(session)
        with ApiClient(store) as client:
            client.http.mount("http://", Canned(bodies))
            write_records(client.paginate(PATH, {"dateFrom": DATE_FROM}), "ndjson", out)

    def bare() -> None:
        with requests.Session() as http:
            http.mount("http://", Canned(bodies))
            http.headers.update(
                {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
            )
            write_call_log(http, args.server + PATH, {"dateFrom": DATE_FROM, "perPage": "1000"}, out)

    times: dict[str, list[float]] = {"rcauth": [], "requests": []}
    for round_ in range(args.runs + 2):
        for name, run in (("rcauth", rcauth), ("requests", bare)):
            start = time.perf_counter()
            run()
            if round_ >= 2:  # two warm-up rounds
                times[name].append((time.perf_counter() - start) * 1e6 / records)
    json.dump(
        {
            "records": records,
            "us_per_record": {k: {"median": statistics.median(v), "best": min(v)} for k, v in times.items()},
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
