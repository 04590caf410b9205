"""The emulator's HTML: RingCentral's sign-in/consent page, its error page, and an index page.

Self-contained (inline CSS, no scripts, no external assets) so it renders offline and under the strict
Content-Security-Policy the server sends. Every interpolated value is HTML-escaped.
"""

from __future__ import annotations

import re
from html import escape

from ringcentral_emulator.config import App, User
from ringcentral_emulator.state import AuthorizeRequest

_STYLE = """
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
 font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2937;
 background:linear-gradient(160deg,#eef4fb 0%,#f7f9fc 60%,#fff 100%)}
.card{width:min(440px,92vw);background:#fff;border-radius:14px;padding:32px 32px 24px;
 box-shadow:0 10px 35px rgba(15,40,80,.12),0 1px 3px rgba(15,40,80,.08)}
.brand{display:flex;align-items:center;gap:10px;font-weight:700;font-size:20px;color:#0684bd;margin-bottom:18px}
.logo{width:30px;height:30px;border-radius:8px;background:#ff8800;color:#fff;display:flex;
 align-items:center;justify-content:center;font-size:17px}
.tag{font-size:11px;font-weight:600;color:#6b7280;border:1px solid #d1d5db;border-radius:999px;
 padding:1px 8px}
h1{font-size:19px;margin:0 0 14px;line-height:1.35}
.user{display:flex;gap:12px;align-items:center;background:#f3f6fa;border-radius:10px;padding:10px 12px;
 margin-bottom:18px}
.avatar{width:38px;height:38px;border-radius:50%;background:#0684bd;color:#fff;display:flex;
 align-items:center;justify-content:center;font-weight:700}
.user small{display:block;color:#6b7280}
ul.perms{list-style:none;padding:0;margin:6px 0 20px}
ul.perms li{padding:8px 0 8px 28px;border-bottom:1px solid #eef0f3;position:relative}
ul.perms li:before{content:"\\2713";position:absolute;left:4px;color:#16a34a;font-weight:700}
.buttons{display:flex;gap:12px;justify-content:flex-end}
button{font:inherit;font-weight:600;border-radius:8px;padding:10px 22px;cursor:pointer;
 border:1px solid #0684bd}
button.primary{background:#0684bd;color:#fff}
button.primary:hover{background:#056d9c}
button.secondary{background:#fff;color:#0684bd}
.fine{color:#6b7280;font-size:12.5px;margin-top:18px;word-break:break-all}
.error{border-left:4px solid #dc2626;background:#fef2f2;padding:12px 14px;border-radius:6px}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
"""


def permission_label(scope: str) -> str:
    """ "ReadCallLog" -> "Read Call Log", as RingCentral lists app permissions."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", scope)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><main class="card">{_BRAND}{body}</main></body></html>\n'
    )


_BRAND = '<div class="brand"><span class="logo">R</span>RingCentral <span class="tag">emulator</span></div>'


def consent_page(app: App, user: User, request: AuthorizeRequest, nonce: str) -> str:
    """The signed-in user's consent page: the app, its permissions, and Approve / Deny."""
    hidden = {
        "nonce": nonce,
        "response_type": "code",
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "state": request.state,
        "code_challenge": request.code_challenge,
        "code_challenge_method": request.code_challenge_method,
    }
    fields = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in hidden.items()
        if v is not None
    )
    perms = "".join(f"<li>{escape(permission_label(s))}</li>" for s in app.scopes)
    initials = escape((user.first_name[:1] + user.last_name[:1]).upper())
    body = (
        f"<h1>{escape(app.name)} would like to access your RingCentral account</h1>"
        f'<div class="user"><span class="avatar">{initials}</span><div>'
        f"Signed in as <strong>{escape(user.name)}</strong>"
        f"<small>{escape(user.email)} &middot; Ext. {escape(user.extension_number)} &middot; "
        f"{escape(user.company)}</small></div></div>"
        f'<div>This app will be able to:</div><ul class="perms">{perms}</ul>'
        f'<form method="post" action="/login/consent">{fields}'
        '<div class="buttons">'
        '<button type="submit" name="action" value="deny" class="secondary">Deny</button>'
        '<button type="submit" name="action" value="approve" class="primary">Approve</button>'
        "</div></form>"
        '<p class="fine">After you choose, you will return to '
        f"<code>{escape(request.redirect_uri)}</code>.</p>"
    )
    return _page(f"RingCentral - Authorize {app.name}", body)


def error_page(title: str, message: str, code: str | None = None) -> str:
    """An authorization error shown in the browser (used when redirecting back would be unsafe)."""
    code_html = f"<p><code>{escape(code)}</code></p>" if code else ""
    body = f'<h1>{escape(title)}</h1><div class="error">{escape(message)}</div>{code_html}'
    return _page(f"RingCentral - {title}", body)


def index_page(base_url: str) -> str:
    rows = "".join(
        f"<li><code>{escape(line)}</code></li>"
        for line in (
            "GET  /restapi/oauth/authorize",
            "POST /restapi/oauth/token",
            "POST /restapi/oauth/revoke",
            "GET  /restapi/v1.0/account/~",
            "GET  /restapi/v1.0/account/~/extension/~",
            "GET  /restapi/v1.0/account/~/extension/~/call-log",
            "GET  /restapi/v1.0/account/~/call-log",
            "GET  /__emulator/counters",
        )
    )
    body = (
        "<h1>RingCentral emulator</h1>"
        f"<p>A local stand-in for RingCentral at <code>{escape(base_url)}</code>, for tests and demos. "
        "Its tokens and data are fake.</p>"
        f'<ul class="perms">{rows}</ul>'
    )
    return _page("RingCentral emulator", body)
