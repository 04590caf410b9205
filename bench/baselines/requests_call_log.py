"""Baseline for `rcauth call-log --all --format ndjson`: a bare requests loop over one `Session`
(one kept-alive connection), following `navigation.nextPage`, one JSON line a record.

    python bench/baselines/requests_call_log.py SERVER TOKEN_FILE DATE_FROM
"""

import json
import sys

import requests


def main() -> None:
    server, token_file, date_from = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(token_file, encoding="utf-8") as fh:
        token = json.load(fh)["access_token"]
    out = sys.stdout
    url: str | None = server + "/restapi/v1.0/account/~/extension/~/call-log"
    params: dict[str, str] | None = {"dateFrom": date_from, "perPage": "1000"}
    with requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        while url:
            response = http.get(url, params=params, timeout=60)
            response.raise_for_status()
            page = response.json()
            for record in page["records"]:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            url, params = (page.get("navigation") or {}).get("nextPage", {}).get("uri"), None
    out.flush()


if __name__ == "__main__":
    main()
