"""Seeded, deterministic RingCentral data: the account, its extensions, and call logs of any size.

The account's company call log has `account_count` records, newest first; record `j` is computed on demand
from `(seed, j)` and never stored, so a million records cost a few megabytes (one category byte per record,
plus lazily built filter indexes), not gigabytes.

- Time: record `j` starts at `anchor - offset(j) - jitter(j)`. Gaps between records grow from 2 minutes
  (the newest) to 20 minutes over the first 2000 records, then stay at 20 minutes, or shrink so the log
  spans at most about five years when it is very large. `jitter(j)` is less than 90 % of the gap, so start
  times strictly decrease with `j` and a date range maps to an index range by bisection.
- The signed-in user owns 4 records in every 8 of the account log (positions 1, 4, 5 and 7 of each block,
  so the user's records interleave with colleagues'); the user's own log (`extension/~/call-log`) is exactly
  `call_records` records, about 190 of them in the last 24 hours, spanning about two weeks by default.
- Type and direction come from a per-record category byte (about 6 % Fax, 62 % Inbound); filters by them
  use a cached `array` of matching positions built with C-speed bytes operations.
- Results: about 9 calls in 10 are answered (a fax received or sent), missed or not answered, sent to
  voicemail or find the line busy (weighted by type and direction, from the record's hash). One record in
  every `RARE_EVERY` is a rare call instead, the next of `RARE_CALLS` in turn (its category byte set to
  match), so each of the spec's other result, reason, action and leg-type values turns up about once in
  4,600 records, and all of them in any log that long.
- Deleted records (`deleted: true`, listed only with `showDeleted=true`): in every block of 32 account
  records, one of the user's and one of a colleague's (positions chosen by the seed) is followed by a
  deleted record, older than it and newer than the next one. They are extra: the visible records, their
  counts and their contents are the same with or without them. A deleted record's index is `DELETED` plus
  the index of the record it follows; a page of a log with deleted records is a run of "entries",
  `2 * stream index` for a visible record and `2 * stream index + 1` for the deleted record after it.
- Filters on a record's content (`phoneNumber`, `extensionNumber`, `showBlocked=false`, `recordingType`,
  `withRecording`, `transport`, `sessionId`, `telephonySessionId`: `RecordFilter`) test each record of the
  date range once per query (the matches are cached), so only queries that use them pay for them.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain, compress
from typing import Any, NamedTuple, Protocol

from ringcentral_emulator.config import User

USER_SLOTS = (1, 4, 5, 7)  # positions, in each block of 8 account records, owned by the signed-in user
_SLOT_RANK = {slot: rank for rank, slot in enumerate(USER_SLOTS)}
DELETED_BLOCK = 32  # in each block of 32 account records, two are followed by a deleted record
DELETED = 1 << 62  # a deleted record's index: DELETED + the index of the account record it follows
_MATCH_CACHE = 32  # content-filtered selections kept (navigation links repeat a query page after page)

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS
GAP_NEWEST_MS = 2 * MINUTE_MS
GAP_OLDER_MS = 20 * MINUTE_MS
RAMP_RECORDS = 2000
MAX_SPAN_MS = 5 * 365 * DAY_MS
MIN_GAP_MS = 10_000
ANCHOR_LAG_MS = 3 * MINUTE_MS  # the newest record starts a few minutes before the emulator does

CALL_TYPES = ("Voice", "Fax")
DIRECTIONS = ("Inbound", "Outbound")

_M64 = (1 << 64) - 1
_ID_MULTIPLIER = 0x9E3779B97F4A7C15  # odd, so multiplication mod 2**64 is a bijection
_ID_INVERSE = pow(_ID_MULTIPLIER, -1, 1 << 64)
# Recording ids are numbers, as RingCentral's are (the spec's example "625387632786"): a bijection of the
# record's index mod 2**41 (bit 40 marks a deleted record), so the media origin finds the record of an id.
_REC_BITS = 41
_REC_MASK = (1 << _REC_BITS) - 1
_REC_DELETED = 1 << (_REC_BITS - 1)
_REC_MULTIPLIER = 0x0B5AD4ECEDA1CE2B & _REC_MASK  # odd
_REC_INVERSE = pow(_REC_MULTIPLIER, -1, 1 << _REC_BITS)
_REC_OFFSET = 10**12
# The guide's call-recordings page: RingCentral does not retain recordings shorter than 30 seconds.
MIN_RECORDING_MS = 30_000

_FIRST_NAMES = tuple(
    (
        "Jordan Priya Mateo Aisha Wei Olivia Kenji Fatima Liam Sofia Noah Amara Lucas Mei Elena "
        "Omar Grace Ravi Chloe Diego Hannah Yusuf Isla Tomas Zara Ethan Nadia Samuel Leah Arjun "
        "Maya Felix Ines Jonah Keiko Marcus"
    ).split()
)
_LAST_NAMES = tuple(
    (
        "Lee Patel Garcia Okafor Chen Johnson Tanaka Haddad Murphy Rossi Kim Nguyen Silva Cohen "
        "Novak Ali Brown Iyer Dubois Lopez Schmidt Yilmaz Walsh Costa Khan Meyer Park Singh Fischer "
        "Adeyemi Moreau Sato"
    ).split()
)
# North American area codes and their place names; numbers use the fictional 555-01XX range.
_AREAS = (
    ("212", "New York, NY"),
    ("312", "Chicago, IL"),
    ("415", "San Francisco, CA"),
    ("512", "Austin, TX"),
    ("206", "Seattle, WA"),
    ("303", "Denver, CO"),
    ("617", "Boston, MA"),
    ("404", "Atlanta, GA"),
    ("305", "Miami, FL"),
    ("213", "Los Angeles, CA"),
    ("650", "San Mateo, CA"),
    ("408", "San Jose, CA"),
    ("602", "Phoenix, AZ"),
    ("503", "Portland, OR"),
    ("615", "Nashville, TN"),
    ("416", "Toronto, ON"),
)
_COLLEAGUES = 11

# (result, reason, reasonDescription, weight out of 256): most calls are answered, missed, sent to voicemail
# or find the line busy; the other results of the spec are the rare calls below.
_OUTCOMES: dict[tuple[str, str], tuple[tuple[str, str, str, int], ...]] = {
    ("Voice", "Inbound"): (
        ("Accepted", "Accepted", "The call connected to and was accepted by this number.", 154),
        ("Missed", "Not Answered", "The call was not answered before it stopped ringing.", 48),
        ("Voicemail", "Not Answered", "The caller was sent to voicemail and left a message.", 40),
        ("Rejected", "Calls Not Accepted", "The call was declined.", 4),
        ("Hang Up", "Hang Up", "The caller hung up before the call was answered.", 6),
        ("Blocked", "Number Blocked", "The caller's number is blocked.", 4),
    ),
    ("Voice", "Outbound"): (
        ("Call connected", "Connected", "The call was answered.", 176),
        ("No Answer", "Not Answered", "The called party did not answer.", 38),
        ("Busy", "Line Busy", "The called line was busy.", 22),
        ("Hang Up", "Hang Up", "The call was ended before it was answered.", 10),
        ("Wrong Number", "Bad Number", "The number dialed is not in service.", 6),
        ("Stopped", "Stopped", "The call was stopped while it was being placed.", 4),
    ),
    ("Fax", "Inbound"): (
        ("Received", "Accepted", "The fax was received.", 232),
        ("Partial Receive", "Fax Not Received", "Only part of the fax was received.", 8),
        ("Receive Error", "Fax Not Received", "The fax could not be received.", 16),
    ),
    ("Fax", "Outbound"): (
        ("Sent", "Connected", "The fax was sent.", 228),
        ("Fax Partially Sent", "Fax Partially Sent", "Only part of the fax was sent.", 10),
        ("Send Error", "Fax Send Error", "The fax could not be sent.", 18),
    ),
}
_ACTIONS = {
    ("Voice", "Inbound"): (("Phone Call", 180), ("FindMe", 26), ("Transfer", 26), ("VoIP Call", 24)),
    ("Voice", "Outbound"): (("VoIP Call", 140), ("Phone Call", 78), ("RingOut Web", 26), ("RingMe", 12)),
    ("Fax", "Inbound"): (("Incoming Fax", 256),),
    ("Fax", "Outbound"): (("Outgoing Fax", 256),),
}
_CONNECTED = frozenset({"Accepted", "Call connected"})


class RareCall(NamedTuple):
    """A call that ends in a way few do (a 911 call, a number the account may not dial, a queue caller
    who asked to be called back...), or that only a few features make (paging, monitoring, a parked call):
    its type and direction, its result, reason and action, and a leg it adds (None: only its action's)."""

    type: str
    direction: str
    result: str
    reason: str
    action: str
    leg: str | None = None


# One account record in every RARE_EVERY is the next of RARE_CALLS, in turn (the record's position in its
# block and where the turn starts come from the seed), so rare values stay rare (each once in about 4,600
# records) and are sure to appear in a log that long. With the ordinary mix, which makes each of its own
# values dozens of times in such a log (the fax failures it makes too seldom are rare calls as well), every
# value of the spec's CallResultEnum, CallResultReasonEnum, CallActionEnum and CallLegTypeEnum appears
# in any log of RARE_EVERY * len(RARE_CALLS) records or more, as in production.
RARE_EVERY = 101
RARE_CALLS = (
    RareCall("Voice", "Outbound", "911", "Connected", "Emergency"),
    RareCall("Voice", "Outbound", "933", "Connected", "E911 Update"),
    RareCall("Voice", "Outbound", "Call Failed", "Failed Try Again", "RingOut PC"),
    RareCall("Voice", "Outbound", "Call Failed", "Emergency Address not defined", "Emergency"),
    RareCall("Voice", "Outbound", "Call Failure", "Internal Call Error", "External Application"),
    RareCall("Voice", "Outbound", "Call Failure", "Resource Error", "Conference Call"),
    RareCall(
        "Voice",
        "Outbound",
        "Carrier is not active",
        "Carrier is not active",
        "RingOut Mobile",
        "RingOutOneLegToCaller",
    ),
    RareCall("Voice", "Outbound", "EDGE trunk misconfigured", "EDGE trunk misconfigured", "FreeSPDL"),
    RareCall("Voice", "Outbound", "Internal Error", "Internal Error", "VoiceChat Call"),
    RareCall("Voice", "Outbound", "International Disabled", "International Disabled", "RC Meetings"),
    RareCall("Voice", "Outbound", "International Restricted", "International Restricted", "CallOut-CallMe"),
    RareCall("Voice", "Outbound", "No Calling Credit", "No Credit", "Calling Card"),
    RareCall("Voice", "Outbound", "Not Allowed", "Number Not Allowed", "Ring Directly"),
    RareCall("Voice", "Outbound", "Restricted Number", "Restricted Number", "Call Return"),
    RareCall("Voice", "Outbound", "Restricted Number", "Customer 611 Restricted", "Support"),
    RareCall("Voice", "Outbound", "Restricted Number", "Info 411 Restricted", "Phone Call"),
    RareCall("Voice", "Outbound", "Suspended account", "Number Disabled", "VoIP Call"),
    RareCall("Voice", "Outbound", "Wrong Number", "Wrong Number", "Phone Call", "ImsCall"),
    RareCall("Voice", "Outbound", "Busy", "Max Call Limit", "VoIP Call"),
    RareCall("Voice", "Outbound", "Call connected", "Connected", "Paging"),
    RareCall("Voice", "Outbound", "Call connected", "Connected", "Monitoring"),
    RareCall("Voice", "Outbound", "Call connected", "Connected", "Barge In Call"),
    RareCall("Voice", "Inbound", "In Progress", "Connected", "Move"),
    RareCall("Voice", "Inbound", "Abandoned", "Hang Up", "Hunting"),
    RareCall("Voice", "Inbound", "Answered Not Accepted", "Calls Not Accepted", "Accept Call"),
    RareCall("Voice", "Inbound", "Declined", "Calls Not Accepted", "Phone Call"),
    RareCall("Voice", "Inbound", "IP Phone Offline", "No Digital Line", "Phone Call", "PstnToSip"),
    RareCall("Voice", "Inbound", "Phone Login", "Accepted", "Phone Login"),
    RareCall("Voice", "Inbound", "Reply", "Accepted", "Text Relay"),
    RareCall("Voice", "Inbound", "Sent to Voicemail", "Not Answered", "Call Park"),
    RareCall("Voice", "Inbound", "Accepted", "Accepted", "Park Location"),
    RareCall("Voice", "Inbound", "Unknown", "Unknown", "Unknown"),
    RareCall("Voice", "Inbound", "Answered Elsewhere", "Accepted", "Pickup"),
    RareCall("Voice", "Inbound", "Callback requested", "No Answer", "Hunting"),
    RareCall("Voice", "Inbound", "Busy", "Too Many Calls", "Phone Call"),
    RareCall("Voice", "Inbound", "Missed", "No Answer", "FollowMe", "MobileApp"),
    RareCall("Voice", "Inbound", "Call Failed", "Call Loop", "Sip Forwarding"),
    RareCall("Fax", "Outbound", "Fax Not Sent", "Fax Not Sent", "Outgoing Fax"),
    RareCall("Fax", "Outbound", "Fax Poor Line", "Fax Poor Line", "Outgoing Fax"),
    RareCall("Fax", "Outbound", "Send Error", "Fax Prepare Error", "Outgoing Fax"),
    RareCall("Fax", "Outbound", "Send Error", "Fax Send Error", "Outgoing Fax"),
    RareCall("Fax", "Outbound", "Fax Partially Sent", "Fax Partially Sent", "Outgoing Fax"),
    RareCall("Fax", "Inbound", "Partial Receive", "Fax Not Received", "Incoming Fax"),
    RareCall("Fax", "Inbound", "Fax Receipt Error", "Receive Error", "Incoming Fax"),
    RareCall("Fax", "Inbound", "Fax on Demand", "Accepted", "Incoming Fax"),
    RareCall("Fax", "Inbound", "Receive Error", "Fax Save Error", "Incoming Fax"),
)
# The legs (CallLegTypeEnum) an action's call is made of, after the first (Accept inbound, PSTN outbound).
_ACTION_LEGS = {
    "FindMe": ("FindMe",),
    "FollowMe": ("FollowMe",),
    "Transfer": ("TransferCall",),
    "Hunting": ("Hunting",),
    "RingMe": ("RingMe",),
    "RingOut Web": ("RingOutWebToCaller",),
    "RingOut PC": ("RingOutClientToCaller",),
    "RingOut Mobile": ("RingOutDeviceToCaller",),
}
_FIRST_LEG = {
    "RingOut Web": "RingOutWebToSubscriber",
    "RingOut PC": "RingOutClientToSubscriber",
    "RingOut Mobile": "RingOutDeviceToSubscriber",
    "Call Park": "CallPark",
    "Park Location": "ParkLocation",
    "Paging": "PagingServer",
    "Monitoring": "Monitoring",
    "Barge In Call": "SilentMonitoring",
    "Pickup": "Pickup",
    "Conference Call": "ConferenceCall",
    "Move": "MoveToConference",
    "Text Relay": "TextRelay",
    "VoiceChat Call": "VoiceChat",
    "RC Meetings": "MeetingsCall",
    "Calling Card": "CallingCard",
    "CallOut-CallMe": "CallMeCallOut",
    "Ring Directly": "RingDirectly",
    "Sip Forwarding": "SipForwarding",
    "FreeSPDL": "OutgoingFreeSpDl",
    "Outgoing Fax": "FaxSent",
    "Call Return": "CallBack",
    "E911 Update": "TestCall",
    "Support": "ServiceMinus2",
    "Phone Login": "ServiceMinus3",
    "External Application": "IvaCall",
    "Accept Call": "JoinCall",
    "Unknown": "Unknown",
}
# The occasional extra leg of an ordinary call: the user's mobile app rang too, or the call crossed from
# the phone network to SIP or through an IMS core on its way.
_EXTRA_LEGS = ("MobileApp", "PstnToSip", "ImsCall")
END_MARGIN_MS = 12_000  # every call ends, and its record was last modified, before the log's anchor


def _mix64(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread hash for per-record jitter."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _pick(weighted: Iterable[tuple[Any, ...]], byte: int) -> tuple[Any, ...]:
    """Choose from rows whose last item is a weight (weights sum to 256) with one random byte."""
    total = 0
    row: tuple[Any, ...] = ()
    for row in weighted:
        total += row[-1]
        if byte < total:
            return row
    return row


def iso_ms(epoch_ms: int) -> str:
    """RingCentral's timestamp format: ISO 8601 UTC with milliseconds, e.g. 2024-05-01T18:53:04.120Z."""
    seconds, millis = divmod(epoch_ms, 1000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


@dataclass(frozen=True)
class Extension:
    id: int
    number: str
    first_name: str
    last_name: str
    email: str
    direct_number: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Directory:
    """The account and its extensions: the signed-in user plus seeded colleagues."""

    def __init__(self, user: User, seed: int) -> None:
        self.user = user
        self.account_id = user.account_id
        self.me = Extension(
            user.extension_id,
            user.extension_number,
            user.first_name,
            user.last_name,
            user.email,
            user.business_phone,
        )
        rng = random.Random(f"{seed}:directory")  # noqa: S311 - seeded fake data, not security
        firsts = rng.sample(_FIRST_NAMES, _COLLEAGUES)
        lasts = rng.sample(_LAST_NAMES, _COLLEAGUES)
        domain = user.email.partition("@")[2] or "example.com"
        self.colleagues = tuple(
            Extension(
                id=user.extension_id + 1000 * (k + 1),
                number=str(102 + k),
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}@{domain}",
                direct_number=f"+1650555{101 + k:04d}",
            )
            for k, (first, last) in enumerate(zip(firsts, lasts, strict=True))
        )
        self.extensions = (self.me, *self.colleagues)
        self._by_id = {str(e.id): e for e in self.extensions}

    def extension(self, extension_id: str) -> Extension | None:
        """An extension by its id as it appears in a path ("~" is the signed-in user)."""
        if extension_id == "~":
            return self.me
        return self._by_id.get(extension_id)

    def account_resource(self, base: str) -> dict[str, Any]:
        acc = f"{base}/restapi/v1.0/account/{self.account_id}"
        return {
            "uri": acc,
            # The spec's GetAccountInfoResponse types this id as an integer (int64), where an extension's
            # `account.id` is a string: RingCentral's account ids are numbers.
            "id": int(self.account_id),
            "serviceInfo": {
                "uri": f"{acc}/service-info",
                "brand": {"id": "1210", "name": "RingCentral", "homeCountry": _home_country(base)},
                "servicePlan": {
                    "id": "10016",
                    "name": "RingEX Advanced",
                    "edition": "Advanced",
                    "freemiumProductType": "Freyja",
                },
                "billingPlan": {
                    "id": "8373",
                    "name": "Monthly-19.99-Advanced 2",
                    "durationUnit": "Month",
                    "duration": 1,
                    "type": "Regular",
                },
                "targetServicePlan": {"id": "10016", "name": "RingEX Advanced"},
            },
            "operator": {
                "uri": f"{acc}/extension/{self.me.id}",
                "id": self.me.id,
                "extensionNumber": self.me.number,
            },
            "mainNumber": self.user.main_number,
            "status": "Confirmed",
            "setupWizardState": "Completed",
            "signupInfo": {"signupState": ["AccountConfirmed"], "verificationReason": "CC_Failed"},
            "regionalSettings": _regional_settings(base),
            "federated": False,
            "outboundCallPrefix": 0,
            "cfid": "",
            "limits": {
                "freeSoftPhoneLinesPerExtension": 1,
                "meetingSize": 100,
                "cloudRecordingStorage": 10,
                "maxMonitoredExtensionsPerUser": 100,
                "maxExtensionNumberLength": 5,
                "siteCodeLength": 0,
                "shortExtensionNumberLength": 3,
            },
            "bsid": "",
        }

    def extension_resource(
        self, ext: Extension, base: str, admin: bool, *, item: bool = False
    ) -> dict[str, Any]:
        """extension/{id} as the spec's GetExtensionInfoResponse, or (`item`) an extension list item,
        which carries fewer fields (the spec's list item has no account, regionalSettings,
        serviceFeatures or setupWizardState)."""
        acc = f"{base}/restapi/v1.0/account/{self.account_id}"
        uri = f"{acc}/extension/{ext.id}"
        is_me = ext is self.me
        resource: dict[str, Any] = {
            "uri": uri,
            "id": ext.id,
            "extensionNumber": ext.number,
            "contact": {
                "firstName": ext.first_name,
                "lastName": ext.last_name,
                "company": self.user.company,
                "email": ext.email,
                "businessPhone": ext.direct_number,
                "emailAsLoginName": True,
                "pronouncedName": {"type": "Default"},
                "department": "Operations" if is_me else "Sales",
            },
            "name": ext.name,
            "type": "User",
            "subType": "Unknown",
            "status": "Enabled",
            "permissions": {
                "admin": {"enabled": bool(admin and is_me)},
                "internationalCalling": {"enabled": False},
            },
            "profileImage": {"uri": f"{uri}/profile-image"},
            "site": {"id": "main-site", "name": "Main Site"},
            "hidden": False,
            "assignedCountry": {
                "id": "1",
                "uri": f"{base}/restapi/v1.0/dictionary/country/1",
                "name": "United States",
                "isoCode": "US",
            },
        }
        if item:
            return resource
        resource.update(
            account={"uri": acc, "id": self.account_id},
            regionalSettings=_regional_settings(base),
            setupWizardState="Completed",
            serviceFeatures=[
                {"featureName": "VoipCalling", "enabled": True},
                {"featureName": "Fax", "enabled": True},
                {"featureName": "Voicemail", "enabled": True},
            ],
        )
        return resource


def _home_country(base: str) -> dict[str, Any]:
    return {
        "id": "1",
        "uri": f"{base}/restapi/v1.0/dictionary/country/1",
        "name": "United States",
        "isoCode": "US",
        "callingCode": "1",
    }


def _regional_settings(base: str) -> dict[str, Any]:
    return {
        "homeCountry": _home_country(base),
        "timezone": {
            "id": "58",
            "uri": f"{base}/restapi/v1.0/dictionary/timezone/58",
            "name": "US/Pacific",
            "description": "Pacific Time (US & Canada)",
            "bias": "-480",
        },
        "language": {
            "id": "1033",
            "name": "English (United States)",
            "localeCode": "en-US",
        },
        "greetingLanguage": {"id": "1033", "name": "English (United States)", "localeCode": "en-US"},
        "formattingLocale": {"id": "1033", "name": "English (United States)", "localeCode": "en-US"},
        "timeFormat": "12h",
    }


def account_size(user_records: int) -> int:
    """How many records the account log holds when the user owns `user_records` of them."""
    if user_records <= 0:
        return 0
    return max(2 * user_records, user_to_account(user_records - 1) + 1)


def user_to_account(i: int) -> int:
    return 8 * (i // 4) + USER_SLOTS[i % 4]


class Timeline:
    """Start times of the account log: strictly decreasing in the record index."""

    def __init__(self, anchor_ms: int, size: int, seed: int) -> None:
        self.newest_ms = anchor_ms - ANCHOR_LAG_MS
        self.size = size
        self._salt = _mix64(seed & _M64)
        self._ramp_end = self._ramp_offset(RAMP_RECORDS)
        tail = size - RAMP_RECORDS
        if tail <= 0:
            self._tail_gap = GAP_OLDER_MS
        else:
            self._tail_gap = max(MIN_GAP_MS, min(GAP_OLDER_MS, (MAX_SPAN_MS - self._ramp_end) // tail))

    @staticmethod
    def _ramp_offset(j: int) -> int:
        return GAP_NEWEST_MS * j + (GAP_OLDER_MS - GAP_NEWEST_MS) * j * (j - 1) // (2 * RAMP_RECORDS)

    def offset(self, j: int) -> int:
        if j <= RAMP_RECORDS:
            return self._ramp_offset(j)
        return self._ramp_end + (j - RAMP_RECORDS) * self._tail_gap

    def time_ms(self, j: int) -> int:
        start = self.offset(j)
        gap = self.offset(j + 1) - start
        jitter = ((_mix64(self._salt ^ j) & 0xFFFF) * (gap * 9 // 10)) >> 16
        return self.newest_ms - start - jitter

    def after_ms(self, j: int) -> int:
        """A start time strictly between record j's and record j + 1's (for the deleted record after j).

        Record j's jitter is less than 90 % of its gap, so the last tenth of the gap before `offset(j + 1)`
        is free: record j starts before it, record j + 1 at or after its end."""
        following = self.offset(j + 1)
        room = (following - self.offset(j)) // 10  # at least MIN_GAP_MS // 10
        return self.newest_ms - following + 1 + _mix64(~self._salt & _M64 ^ j) % (room - 1)


class _Index(Protocol):
    def __getitem__(self, position: int, /) -> int: ...


class _Hosts:
    """The stream indexes followed by a deleted record (those whose index % `period` is in `residues`),
    and the merged stream of a log with its deleted records, by arithmetic: no per-record storage."""

    def __init__(self, period: int, residues: tuple[int, ...]) -> None:
        self.period = period
        self.residues = tuple(sorted(residues))
        # The entries of one period of the merged stream, relative to its first.
        self._layout = tuple(
            chain.from_iterable((2 * i, 2 * i + 1) if i in self.residues else (2 * i,) for i in range(period))
        )

    def is_host(self, i: int) -> bool:
        return i % self.period in self.residues

    def below(self, i: int) -> int:
        """How many hosts have a stream index below `i`."""
        return (i // self.period) * len(self.residues) + bisect_left(self.residues, i % self.period)

    def nth(self, k: int) -> int:
        """The stream index of the `k`-th host (from 0)."""
        return self.period * (k // len(self.residues)) + self.residues[k % len(self.residues)]

    def position(self, entry: int) -> int:
        """The merged position of `entry` (of the first entry at or after it, for a bound)."""
        i = entry >> 1
        return i + self.below(i) + (entry & 1)

    def __getitem__(self, position: int) -> int:
        """The entry at a merged position."""
        block, offset = divmod(position, len(self._layout))
        return 2 * block * self.period + self._layout[offset]


@dataclass(frozen=True)
class Selection:
    """The records a call-log query matches: positions `lo`..`hi` of a (possibly filtered) stream."""

    lo: int
    hi: int
    index: _Index | None  # positions -> stream indexes (or entries) when filtered; None means the identity
    entries: bool = False  # the index gives entries (2 * stream index, + 1 for the deleted record after it)

    @property
    def total(self) -> int:
        return self.hi - self.lo

    def entry(self, position: int) -> int:
        value = position if self.index is None else self.index[position]
        return value if self.entries else 2 * value

    def stream_index(self, position: int) -> int:
        return self.entry(position) >> 1


@dataclass(frozen=True)
class RecordFilter:
    """The call-log query parameters that filter on a record's content, as the spec describes them."""

    phone_number: str | None = None  # phoneNumber: e.164 digits without "+", the caller's or the callee's
    extension_number: str | None = None  # extensionNumber: the call log of this extension only
    hide_blocked: bool = False  # showBlocked=false: no calls from or to blocked numbers
    recording_types: frozenset[str] | None = None  # recordingType / withRecording: calls recorded so
    transports: frozenset[str] = frozenset()  # transport: any of these (empty: any)
    session_id: str | None = None
    telephony_session_id: str | None = None

    @property
    def active(self) -> bool:
        return self != RecordFilter()

    def matches(self, record: dict[str, Any]) -> bool:
        if self.phone_number is not None and self.phone_number not in (
            str(record[side].get("phoneNumber", "")).removeprefix("+") for side in ("from", "to")
        ):
            return False
        if self.extension_number is not None:
            owner = record["to"] if record["direction"] == "Inbound" else record["from"]
            if owner.get("extensionNumber") != self.extension_number:
                return False
        if self.hide_blocked and record["result"] == "Blocked":
            return False
        if self.recording_types is not None and (
            record.get("recording", {}).get("type") not in self.recording_types
        ):
            return False
        if self.transports and record.get("transport") not in self.transports:
            return False
        if self.session_id is not None and record["sessionId"] != self.session_id:
            return False
        return self.telephony_session_id is None or record["telephonySessionId"] == self.telephony_session_id


class CallLog:
    """The account's call log and the signed-in user's part of it, generated on demand."""

    def __init__(
        self,
        directory: Directory,
        *,
        seed: int,
        records: int,
        anchor_ms: int,
        caller_names: tuple[str, ...] = (),
    ) -> None:
        self.directory = directory
        self.seed = seed
        self.caller_names = caller_names
        self.user_count = records
        self.account_count = account_size(records)
        self.timeline = Timeline(anchor_ms, self.account_count, seed)
        self.anchor_ms = anchor_ms
        self._key = _mix64((seed * 7919) & _M64)
        self._lock = threading.Lock()
        self._categories: dict[str, bytes] = {}
        self._indexes: dict[tuple[Any, ...], array] = {}
        self._matches: OrderedDict[tuple[Any, ...], array] = OrderedDict()
        # Where the rare calls are: their position in each block of RARE_EVERY, and the turn they start at.
        rare = random.Random(f"{seed}:rare")  # noqa: S311 - seeded fake data
        self._rare_position = rare.randrange(RARE_EVERY)
        self._rare_turn = rare.randrange(len(RARE_CALLS))
        # The two account positions, in each block of DELETED_BLOCK, followed by a deleted record: one of
        # the user's, one of a colleague's; in the user's own stream, the user's one, every 16 records.
        rng = random.Random(f"{seed}:deleted")  # noqa: S311 - seeded fake data
        mine = [p for p in range(DELETED_BLOCK) if p % 8 in _SLOT_RANK]
        users, colleagues = rng.choice(mine), rng.choice([p for p in range(DELETED_BLOCK) if p not in mine])
        self._user_host = users
        self._hosts = {
            "account": _Hosts(DELETED_BLOCK, (users, colleagues)),
            "extension": _Hosts(len(mine), (mine.index(users),)),
        }

    # -- streams ---------------------------------------------------------------------------------------

    def count(self, scope: str) -> int:
        return self.user_count if scope == "extension" else self.account_count

    def to_account(self, scope: str, stream_index: int) -> int:
        return user_to_account(stream_index) if scope == "extension" else stream_index

    def owned_by_user(self, j: int) -> bool:
        if j >= DELETED:
            return self.owned_by_user(j - DELETED)
        rank = _SLOT_RANK.get(j % 8)
        return rank is not None and (j // 8) * 4 + rank < self.user_count

    def time_ms(self, scope: str, stream_index: int) -> int:
        return self.timeline.time_ms(self.to_account(scope, stream_index))

    def _category_bytes(self, scope: str) -> bytes:
        with self._lock:
            cached = self._categories.get(scope)
            if cached is not None:
                return cached
            if "account" not in self._categories:
                rng = random.Random(f"{self.seed}:categories")  # noqa: S311 - seeded fake data
                drawn = bytearray(rng.randbytes(self.account_count))
                # Each rare call's record takes the rare call's type and direction (a slice per rare call).
                period = RARE_EVERY * len(RARE_CALLS)
                for turn, rare in enumerate(RARE_CALLS):
                    first = RARE_EVERY * ((turn - self._rare_turn) % len(RARE_CALLS)) + self._rare_position
                    count = len(range(first, self.account_count, period))
                    drawn[first::period] = bytes([_category_byte(rare.type, rare.direction)]) * count
                self._categories["account"] = bytes(drawn)
            account = self._categories["account"]
            if scope == "extension":
                mine = bytearray(self.user_count)
                for rank, slot in enumerate(USER_SLOTS):
                    n = len(range(rank, self.user_count, 4))
                    mine[rank::4] = account[slot::8][:n]
                self._categories["extension"] = bytes(mine)
            return self._categories[scope]

    def _deleted_category_bytes(self, scope: str) -> bytes:
        """The category bytes of the deleted records, by host ordinal in `scope`'s stream."""
        key = f"deleted-{scope}"
        with self._lock:
            cached = self._categories.get(key)
            if cached is not None:
                return cached
            hosts = self._hosts["account"]
            if "deleted-account" not in self._categories:
                rng = random.Random(f"{self.seed}:deleted-categories")  # noqa: S311 - seeded fake data
                self._categories["deleted-account"] = rng.randbytes(hosts.below(self.account_count))
            account = self._categories["deleted-account"]
            if scope == "extension":
                # The user's k-th host is the account's host at the user's position of block k.
                mine = account[hosts.residues.index(self._user_host) :: len(hosts.residues)]
                self._categories[key] = mine[: self._hosts["extension"].below(self.user_count)]
            return self._categories[key]

    def rare_call(self, j: int) -> RareCall | None:
        """The rare call account record `j` is, if it is one (never a deleted record)."""
        if j >= DELETED:
            return None
        block, position = divmod(j, RARE_EVERY)
        if position != self._rare_position:
            return None
        return RARE_CALLS[(block + self._rare_turn) % len(RARE_CALLS)]

    def category(self, j: int) -> tuple[str, str]:
        if j >= DELETED:
            c = self._deleted_category_bytes("account")[self._hosts["account"].below(j - DELETED)]
        else:
            c = self._category_bytes("account")[j]
        return ("Fax" if c & 0x0F == 0 else "Voice", "Inbound" if c >> 4 < 10 else "Outbound")

    def is_deleted(self, j: int) -> bool:
        return j >= DELETED

    def entry_index(self, scope: str, entry: int) -> int:
        """The account index of a selection's entry (DELETED + host for a deleted record)."""
        j = self.to_account(scope, entry >> 1)
        return DELETED + j if entry & 1 else j

    def start_ms(self, j: int) -> int:
        return self.timeline.after_ms(j - DELETED) if j >= DELETED else self.timeline.time_ms(j)

    # -- queries ---------------------------------------------------------------------------------------

    def select(
        self,
        scope: str,
        *,
        date_from_ms: int,
        date_to_ms: int,
        types: frozenset[str] = frozenset(),
        directions: frozenset[str] = frozenset(),
        show_deleted: bool = False,
        where: RecordFilter | None = None,
    ) -> Selection:
        """Records with `date_from_ms <= startTime < date_to_ms` of the given types and directions, with
        the deleted ones when `show_deleted`, that `where` matches.

        Empty `types` or `directions` match any."""
        n = self.count(scope)
        lo = self._first_before(scope, n, date_to_ms)
        hi = self._first_before(scope, n, date_from_ms) if date_from_ms < date_to_ms else lo
        hi = max(lo, hi)
        types = frozenset() if types >= set(CALL_TYPES) else types
        directions = frozenset() if directions >= set(DIRECTIONS) else directions
        if show_deleted:
            hosts = self._hosts[scope]
            first = self._first_entry_before(scope, lo, date_to_ms)
            end = first
            if date_from_ms < date_to_ms:  # (a deleted record may lie in a range that holds no visible one)
                end = max(first, self._first_entry_before(scope, hi, date_from_ms))
            if not types and not directions:
                base = Selection(hosts.position(first), hosts.position(end), hosts, entries=True)
            else:
                merged = self._merged_filter_index(scope, types, directions)
                base = Selection(bisect_left(merged, first), bisect_left(merged, end), merged, entries=True)
        elif not types and not directions:
            base = Selection(lo, hi, None)
        else:
            index = self._filter_index(scope, types, directions)
            base = Selection(bisect_left(index, lo), bisect_left(index, hi), index)
        if where is None or not where.active:
            return base
        return self._matching(scope, base, (types, directions, show_deleted), where)

    def _first_entry_before(self, scope: str, i: int, limit_ms: int) -> int:
        """The first entry starting before `limit_ms`, given `i`, the first such visible record: the
        deleted record after record i - 1 when there is one and it qualifies, else record i."""
        if i > 0 and self._hosts[scope].is_host(i - 1):
            if self.timeline.after_ms(self.to_account(scope, i - 1)) < limit_ms:
                return 2 * i - 1
        return 2 * i

    def _matching(self, scope: str, base: Selection, kind: tuple[Any, ...], where: RecordFilter) -> Selection:
        """The entries of `base` whose record `where` matches, found by generating each once."""
        key = (scope, base.lo, base.hi, *kind, where)
        with self._lock:
            found = self._matches.get(key)
            if found is not None:
                self._matches.move_to_end(key)
        if found is None:
            found = array("Q")
            for p in range(base.lo, base.hi):
                entry = base.entry(p)
                record = self.record(scope, self.entry_index(scope, entry), base="", detailed=False)
                if where.matches(record):
                    found.append(entry)
            with self._lock:
                self._matches[key] = found
                while len(self._matches) > _MATCH_CACHE:
                    self._matches.popitem(last=False)
        return Selection(0, len(found), found, entries=True)

    def _first_before(self, scope: str, n: int, limit_ms: int) -> int:
        """The smallest stream index whose start time is before `limit_ms` (times decrease with the index)."""
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if self.time_ms(scope, mid) < limit_ms:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _filter_index(self, scope: str, types: frozenset[str], directions: frozenset[str]) -> array:
        key = (scope, types, directions)
        with self._lock:
            cached = self._indexes.get(key)
        if cached is not None:
            return cached
        categories = self._category_bytes(scope)
        mask = categories.translate(_category_table(types, directions))
        index = array("I", compress(range(len(mask)), mask))
        with self._lock:
            self._indexes.setdefault(key, index)
            return self._indexes[key]

    def _merged_filter_index(self, scope: str, types: frozenset[str], directions: frozenset[str]) -> array:
        """The entries, visible and deleted, of the given types and directions, in stream order."""
        key = (scope, types, directions, "with deleted")
        with self._lock:
            cached = self._indexes.get(key)
        if cached is not None:
            return cached
        visible = self._filter_index(scope, types, directions)
        mask = self._deleted_category_bytes(scope).translate(_category_table(types, directions))
        hosts = self._hosts[scope]
        deleted = array("Q", (2 * hosts.nth(k) + 1 for k in compress(range(len(mask)), mask)))
        # Merged run by run (both are in stream order), in arrays: no list of Python ints the log's size.
        index = array("Q")
        start = 0
        for entry in deleted:
            stop = bisect_left(visible, (entry >> 1) + 1, start)
            index.extend(map((2).__mul__, visible[start:stop]))
            index.append(entry)
            start = stop
        index.extend(map((2).__mul__, visible[start:]))
        with self._lock:
            self._indexes.setdefault(key, index)
            return self._indexes[key]

    # -- records ---------------------------------------------------------------------------------------

    def record_id(self, j: int) -> str:
        mixed = (j * _ID_MULTIPLIER + self._key) & _M64
        return base64.urlsafe_b64encode(struct.pack(">Q", mixed)).rstrip(b"=").decode("ascii")

    def find(self, record_id: str) -> int | None:
        """The account index of a record id, or None if no such record exists."""
        try:
            raw = base64.urlsafe_b64decode(record_id + "=")
        except (ValueError, TypeError):
            return None
        if len(raw) != 8 or self.record_id_from_bytes(raw) != record_id:
            return None  # not the canonical spelling of an id we issue
        j = ((struct.unpack(">Q", raw)[0] - self._key) * _ID_INVERSE) & _M64
        if j < self.account_count:
            return j
        host = j - DELETED
        return j if 0 <= host < self.account_count and self._hosts["account"].is_host(host) else None

    @staticmethod
    def record_id_from_bytes(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def recording_id(self, j: int) -> str:
        """The id of account record `j`'s recording (whether or not the call was recorded)."""
        k = _REC_DELETED | (j - DELETED) if j >= DELETED else j
        return str(_REC_OFFSET + (((k ^ self._key) & _REC_MASK) * _REC_MULTIPLIER & _REC_MASK))

    def find_recording(self, recording_id: str) -> int | None:
        """The account index of the visible record whose recording has this id, or None (no such id, a
        deleted record's, or a call that was not recorded)."""
        if not (recording_id.isascii() and recording_id.isdigit()) or len(recording_id) > 16:
            return None
        mixed = int(recording_id) - _REC_OFFSET
        if not 0 <= mixed <= _REC_MASK:
            return None
        k = ((mixed * _REC_INVERSE) & _REC_MASK) ^ (self._key & _REC_MASK)
        if k & _REC_DELETED or k >= self.account_count or self.recording_id(k) != recording_id:
            return None
        return k if "recording" in self.record("account", k, base="", detailed=False) else None

    def record(
        self, scope: str, j: int, *, base: str, detailed: bool, media_base: str | None = None
    ) -> dict[str, Any]:
        """Account record `j` (or the deleted record DELETED + host) as RingCentral's call-log API shows it
        in `scope`; a recording's `contentUri` is on `media_base` (the media origin), else on `base`."""
        h = hashlib.blake2b(
            struct.pack(">QQ", self.seed & _M64, j), digest_size=32, person=b"rcauth-call"
        ).digest()
        call_type, direction = self.category(j)
        rare = self.rare_call(j)
        d = self.directory
        owner = d.me if self.owned_by_user(j) else d.colleagues[h[0] % len(d.colleagues)]
        internal = rare is None and call_type == "Voice" and h[1] < 64
        if internal:
            others = [e for e in d.extensions if e is not owner]
            other = _internal_party(others[h[2] % len(others)])
        else:
            other = _external_party(h, fax=call_type == "Fax")
            if self.caller_names:
                other["name"] = self.caller_names[j % len(self.caller_names)]
        me = _owner_party(owner, with_number=not internal)
        if rare is None:
            result, reason, reason_text, _ = _pick(_OUTCOMES[(call_type, direction)], h[3])
            action = "VoIP Call" if internal else _pick(_ACTIONS[(call_type, direction)], h[4])[0]
        else:
            result, reason, action = rare.result, rare.reason, rare.action
            reason_text = f"{result}: {reason}."
        duration_ms = _duration_ms(call_type, result, int.from_bytes(h[5:7], "big"), h[7])
        start_ms = self.start_ms(j)
        # No call ends (and no record changes) after the log's anchor, the emulator's "now" at start-up:
        # a record with a final result never ends after the answer's Date.
        duration_ms = max(0, min(duration_ms, self.anchor_ms - END_MARGIN_MS - start_ms))
        rid = self.record_id(j)
        acc = f"{base}/restapi/v1.0/account/{d.account_id}"
        path = (
            f"{acc}/extension/{owner.id}/call-log/{rid}" if scope == "extension" else f"{acc}/call-log/{rid}"
        )
        session_id = str(10**11 + _mix64(self._key ^ j) % (9 * 10**11))
        record: dict[str, Any] = {
            "uri": path,
            "id": rid,
            "sessionId": session_id,
            "telephonySessionId": "s-" + h[8:24].hex(),
            "partyId": "p-" + h[8:24].hex() + "-1",
            "startTime": iso_ms(start_ms),
            "duration": (duration_ms + 500) // 1000,
            "durationMs": duration_ms,
            "type": call_type,
            "internalType": "Local" if internal else ("LongDistance" if h[9] < 96 else "Local"),
            "direction": direction,
            "action": action,
            "result": result,
            "reason": reason,
            "reasonDescription": reason_text,
            "from": other if direction == "Inbound" else me,
            "to": me if direction == "Inbound" else other,
            "transport": "VoIP" if internal else "PSTN",
            "deleted": j >= DELETED,
        }
        if scope == "account":
            record["extension"] = {"uri": f"{acc}/extension/{owner.id}", "id": owner.id}
        if call_type == "Voice" and result in _CONNECTED and h[10] < 40 and duration_ms >= MIN_RECORDING_MS:
            rec_id = self.recording_id(j)
            media = base if media_base is None else media_base
            record["recording"] = {
                "id": rec_id,
                "uri": f"{acc}/recording/{rec_id}",
                "type": "Automatic" if h[11] < 160 else "OnDemand",
                "contentUri": f"{media}/restapi/v1.0/account/{d.account_id}/recording/{rec_id}/content",
            }
        if call_type == "Fax" or result == "Voicemail":
            message_id = str(4_000_000_000 + _mix64(self._key ^ (j << 2)) % 10**9)
            record["message"] = {
                "id": message_id,
                "type": "Fax" if call_type == "Fax" else "VoiceMail",
                "uri": f"{acc}/extension/{owner.id}/message-store/{message_id}",
            }
        if detailed:
            record["lastModifiedTime"] = iso_ms(start_ms + duration_ms + 1000 + h[12] * 37)
            record["legs"] = _legs(record, owner, acc, result, internal, h, rare.leg if rare else None)
        return record


def _category_table(types: frozenset[str], directions: frozenset[str]) -> bytes:
    """A bytes.translate table: 1 for the category bytes of the given types and directions (empty: any)."""
    return bytes(
        1 if (not types or _type_of(c) in types) and (not directions or _direction_of(c) in directions) else 0
        for c in range(256)
    )


def _category_byte(call_type: str, direction: str) -> int:
    """A category byte of that type and direction (the inverse of `_type_of` and `_direction_of`)."""
    return (0x00 if direction == "Inbound" else 0xA0) | (0x00 if call_type == "Fax" else 0x01)


def _type_of(c: int) -> str:
    return "Fax" if c & 0x0F == 0 else "Voice"


def _direction_of(c: int) -> str:
    return "Inbound" if c >> 4 < 10 else "Outbound"


def _external_party(h: bytes, fax: bool) -> dict[str, Any]:
    area, place = _AREAS[h[13] % len(_AREAS)]
    party: dict[str, Any] = {"phoneNumber": f"+1{area}5550{100 + h[14] % 100:03d}", "location": place}
    if fax:
        party["name"] = f"{_LAST_NAMES[h[15] % len(_LAST_NAMES)]} & Co. Fax"
    elif h[16] < 150:
        party["name"] = f"{_FIRST_NAMES[h[17] % len(_FIRST_NAMES)]} {_LAST_NAMES[h[15] % len(_LAST_NAMES)]}"
    elif h[16] < 190:
        party["name"] = "WIRELESS CALLER"
    return party


def _owner_party(ext: Extension, with_number: bool) -> dict[str, Any]:
    party: dict[str, Any] = {"extensionNumber": ext.number, "extensionId": str(ext.id), "name": ext.name}
    if with_number:
        party = {"phoneNumber": ext.direct_number, **party}
    return party


def _internal_party(ext: Extension) -> dict[str, Any]:
    return {"extensionNumber": ext.number, "extensionId": str(ext.id), "name": ext.name}


def _duration_ms(call_type: str, result: str, wide: int, small: int) -> int:
    u = wide / 65535
    if call_type == "Fax":
        base = 30_000 + int(u * 240_000) if result in ("Received", "Sent") else 5_000 + int(u * 50_000)
    elif result in _CONNECTED:
        base = 8_000 + int(u**3 * 1_800_000)  # mostly short calls, a few long ones
    elif result == "Voicemail":
        base = 12_000 + int(u * 80_000)
    elif result in ("Missed", "No Answer", "Hang Up"):
        base = 4_000 + int(u * 30_000)
    else:
        base = int(u * 3_000)
    return base + small


def _legs(
    record: dict[str, Any],
    owner: Extension,
    acc: str,
    result: str,
    internal: bool,
    h: bytes,
    extra_leg: str | None,
) -> list[dict[str, Any]]:
    """A Detailed record's legs: the master leg, then the legs its action adds (a FindMe or transfer
    leg, the second half of a RingOut), a voicemail leg, and `extra_leg` (a rare call's) or now and then
    an ordinary extra hop."""
    keys = (
        "startTime",
        "duration",
        "durationMs",
        "type",
        "internalType",
        "direction",
        "action",
        "result",
        "reason",
        "reasonDescription",
        "from",
        "to",
        "transport",
    )
    extension = {"uri": f"{acc}/extension/{owner.id}", "id": owner.id}
    action = record["action"]
    if action in _FIRST_LEG:
        first = _FIRST_LEG[action]
    elif internal:
        first = "ExtensionToExtension"
    elif record["direction"] == "Inbound":
        first = "Accept"
    else:
        first = "SipToPstnUnmetered" if action == "VoIP Call" else "SipToPstnMetered"
    leg = {k: record[k] for k in keys}
    leg.update(
        legType=first, extension=extension, master=True, telephonySessionId=record["telephonySessionId"]
    )
    if "recording" in record:
        leg["recording"] = record["recording"]
    legs = [leg]

    def follow(leg_type: str, **changes: Any) -> None:
        extra = {k: record[k] for k in keys}
        extra.update(
            legType=leg_type,
            master=False,
            extension=extension,
            telephonySessionId=record["telephonySessionId"],
            **changes,
        )
        legs.append(extra)

    for leg_type in _ACTION_LEGS.get(action, ()):
        if leg_type == "TransferCall":
            follow(leg_type, transferTarget={"telephonySessionId": "s-" + h[12:28].hex()})
        else:
            follow(leg_type)
    if result == "Voicemail":
        # The leg that reached the user's voicemail (RingCentral shows it as accepted by the mailbox).
        follow("Accept", action="Phone Call", result="Voicemail", reason="Not Answered")
    if extra_leg is not None:
        follow(extra_leg)
    elif h[28] < 24:
        follow(_EXTRA_LEGS[h[29] % len(_EXTRA_LEGS)])
    return legs
