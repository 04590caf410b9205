"""Baseline for `rcauth whoami --json`: the same GET with bare requests and a token read from a file.

python bench/baselines/requests_whoami.py SERVER TOKEN_FILE
"""

import json
import sys

import requests


def main() -> None:
    server, token_file = sys.argv[1], sys.argv[2]
    with open(token_file, encoding="utf-8") as fh:
        token = json.load(fh)["access_token"]
    response = requests.get(
        server + "/restapi/v1.0/account/~/extension/~",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=60,
    )
    response.raise_for_status()
    sys.stdout.write(json.dumps(response.json(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
