"""Outside review (attack on recordings and binary downloads): a content answer compressed although
rcauth asked for `Accept-Encoding: identity`. urllib3 decompresses it as it is read, so the bytes that
reach the disk are the decompressed ones, and nothing bounds them by the answer's `Content-Length`
(the 4 GiB cap is only for a body that states no length): 58 KB of gzip from a hostile media host or a
proxy wrote 60 MB, filled a 20 MB file system, and the `.part` that filled it was kept for "resuming".
"""

from __future__ import annotations

import gzip
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from helpers import make_session, serving

from rcauth.client import ApiClient
from rcauth.errors import RcauthError
from rcauth.store import MemoryStore

EXPANDED = 8 * 2**20
BOMB = gzip.compress(b"\0" * EXPANDED, compresslevel=9)


class _Bomb(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(BOMB)))
        self.end_headers()
        self.wfile.write(BOMB)

    def log_message(self, *args: object) -> None:
        pass


def test_a_compressed_body_never_writes_more_than_its_content_length(tmp_path: Path) -> None:
    written: list[int] = []
    part = tmp_path / "call.mp3.part"
    with serving(_Bomb) as url:
        store = MemoryStore()
        store.save(make_session(server=url))
        with ApiClient(store) as client, pytest.raises(RcauthError):
            client.fetch_part(
                url + "/restapi/v1.0/account/1/recording/1/content",
                None,
                lambda _: part,
                on_chunk=written.append,
            )
    assert sum(written) <= len(BOMB), f"{sum(written)} bytes written for a {len(BOMB)}-byte answer"
    assert not part.exists()
