"""Baseline for `rcauth call-log --all --format ndjson`: the official RingCentral SDK, tokens restored
from a file, following `navigation.nextPage`, one JSON line a record.

    RC_APP_CLIENT_ID=... RC_APP_CLIENT_SECRET=... \
        python bench/baselines/sdk_call_log.py SERVER TOKEN_FILE DATE_FROM
"""

import json
import os
import sys

from ringcentral import SDK


def main() -> None:
    server, token_file, date_from = sys.argv[1], sys.argv[2], sys.argv[3]
    sdk = SDK(os.environ["RC_APP_CLIENT_ID"], os.environ["RC_APP_CLIENT_SECRET"], server)
    platform = sdk.platform()
    with open(token_file, encoding="utf-8") as fh:
        platform.auth().set_data(json.load(fh))
    out = sys.stdout
    url: str | None = "/restapi/v1.0/account/~/extension/~/call-log"
    params: dict[str, str] | None = {"dateFrom": date_from, "perPage": "1000"}
    while url:
        page = platform.get(url, params).json_dict()
        for record in page["records"]:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        url, params = (page.get("navigation") or {}).get("nextPage", {}).get("uri"), None
    out.flush()


if __name__ == "__main__":
    main()
