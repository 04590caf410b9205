"""Baseline for `rcauth call-log --all --format ndjson`: a bare requests loop over one `Session`
(one kept-alive connection), following `navigation.nextPage`, one JSON line a record.

    python bench/baselines/requests_call_log.py SERVER TOKEN_FILE DATE_FROM

`bench/pipeline.py` times `write_call_log` itself, in-process, against rcauth's pipeline.
"""

import json
import sys
from typing import TextIO

import requests


def write_call_log(
    http: requests.Session, url: str | None, params: dict[str, str] | None, out: TextIO
) -> None:
    """Every page from `url` on, following `navigation.nextPage`: one JSON line a record to `out`."""
    while url:
        response = http.get(url, params=params, timeout=60)
        response.raise_for_status()
        page = response.json()
        for record in page["records"]:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        url, params = (page.get("navigation") or {}).get("nextPage", {}).get("uri"), None


def main() -> None:
    server, token_file, date_from = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(token_file, encoding="utf-8") as fh:
        token = json.load(fh)["access_token"]
    with requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        write_call_log(
            http,
            server + "/restapi/v1.0/account/~/extension/~/call-log",
            {"dateFrom": date_from, "perPage": "1000"},
            sys.stdout,
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
