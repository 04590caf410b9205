"""Baseline for `rcauth whoami --json`: RingCentral's official Python SDK with its tokens restored from a
file (`platform.auth().set_data`), one GET of the extension.

    RC_APP_CLIENT_ID=... RC_APP_CLIENT_SECRET=... python bench/baselines/sdk_whoami.py SERVER TOKEN_FILE
"""

import json
import os
import sys

from ringcentral import SDK


def main() -> None:
    server, token_file = sys.argv[1], sys.argv[2]
    sdk = SDK(os.environ["RC_APP_CLIENT_ID"], os.environ["RC_APP_CLIENT_SECRET"], server)
    platform = sdk.platform()
    with open(token_file, encoding="utf-8") as fh:
        platform.auth().set_data(json.load(fh))
    response = platform.get("/restapi/v1.0/account/~/extension/~")
    sys.stdout.write(json.dumps(response.json_dict(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
