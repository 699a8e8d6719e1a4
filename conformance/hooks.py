"""Schemathesis hooks for `npm run conformance`.

Rules the OpenAPI document can state only in words, because they relate two values (JSON Schema
constrains each value on its own), an Idempotency-Key per generated request and an engineer that
exists: requests the API rightly refuses are not drawn as "valid" ones. Case hooks, because every phase applies them.
Nothing here loosens a check.
"""

import re
import uuid
from datetime import date, datetime

import schemathesis

# GET /v1/reports/summary(.svg) and GET /v1/calendar/working-days: `to` is not before `from`, and a
# period spans at most 366 days.
MAX_REPORT_DAYS = 366


@schemathesis.hook("filter_case").apply_to(path_regex=r"^/v1/(reports|calendar)/")
def report_period_in_range(ctx, case):
    query = case.query or {}
    if not isinstance(query.get("from"), str) or not isinstance(query.get("to"), str):
        return True
    try:
        days = (date.fromisoformat(query["to"]) - date.fromisoformat(query["from"])).days
    except ValueError:
        return False  # not a date Python can hold (year 0000): not drawn
    return 0 <= days < MAX_REPORT_DAYS


# POST /v1/tickets/{number}/schedule: a slot ends after it starts.
@schemathesis.hook("filter_case").apply_to(path_regex=r"/schedule$")
def slot_ends_after_it_starts(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    if not isinstance(body.get("slotStart"), str) or not isinstance(body.get("slotEnd"), str):
        return True
    try:
        return _instant(body["slotEnd"]) > _instant(body["slotStart"])
    except (ValueError, OverflowError):
        return False  # not an instant Python can hold (year 0000): not drawn


def _instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# An Idempotency-Key names one request: the API answers 422 when a key comes back with another body,
# and generated keys ("0", "000…") repeat across requests. Each request gets a key of its own.
@schemathesis.hook("map_case")
def unique_idempotency_key(ctx, case):
    key = (case.headers or {}).get("idempotency-key")
    # Only a key the schema allows (1–200 characters): an invalid one is drawn to be refused.
    if isinstance(key, str) and 1 <= len(key) <= 200:
        case.headers["idempotency-key"] = f"{key[:160]}-{uuid.uuid4()}"
    return case


# POST /v1/tickets/{number}/assign names an engineer: `npm run conformance` creates this one first.
CONFORMANCE_ENGINEER = "conformance-engineer"


@schemathesis.hook("map_case").apply_to(path_regex=r"/assign$")
def assign_the_seeded_engineer(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    engineer = body.get("engineerId")
    # Only an id the schema allows (1–64 characters, not blank): an invalid one is drawn to be refused.
    if isinstance(engineer, str) and 1 <= len(engineer) <= 64 and engineer.strip():
        body["engineerId"] = CONFORMANCE_ENGINEER
    return case


# POST /v1/tickets/{number}/qc-review: a failed review names the person responsible, who must be on
# file (a generated id names no one: a 422, rightly). A valid `responsible` becomes the seeded engineer.
PERSON_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@schemathesis.hook("map_case").apply_to(path_regex=r"/qc-review$")
def responsible_is_the_seeded_engineer(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    responsible = body.get("responsible")
    # Only a person the schema allows (an id and a role, nothing else): an invalid one is drawn to be refused.
    valid = (
        isinstance(responsible, dict)
        and set(responsible) == {"id", "role"}
        and isinstance(responsible.get("id"), str)
        and PERSON_ID.fullmatch(responsible["id"])
        and isinstance(responsible.get("role"), str)
    )
    if valid:
        body["responsible"] = {"id": CONFORMANCE_ENGINEER, "role": "engineer"}
    return case


# POST /v1/stock-locations: a van is an engineer's, and a generated id names no one (a 422, rightly).
@schemathesis.hook("map_case").apply_to(method="POST", path="/v1/stock-locations")
def van_of_the_seeded_engineer(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    engineer = body.get("engineerId")
    # Only an id the schema allows (1–64 characters, no NUL): an invalid one is drawn to be refused.
    valid = isinstance(engineer, str) and 1 <= len(engineer) <= 64 and "\x00" not in engineer
    if body.get("kind") == "van" and valid:
        body["engineerId"] = CONFORMANCE_ENGINEER
    return case


# POST /v1/engineers creates or replaces: a generated body that reuses the seeded engineer's id (the
# stateful phase reuses ids the API returned) would replace it, perhaps inactive, and every later
# assign would rightly be refused. Generated engineers keep ids of their own.
@schemathesis.hook("filter_case").apply_to(method="POST", path="/v1/engineers")
def keep_the_seeded_engineer(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    return body.get("id") != CONFORMANCE_ENGINEER


# Stock requests relate values the document states one by one: a transfer moves between two
# locations, a stock-take counts each part at each location once (the API answers 422). (A receipt
# receives something and an adjustment changes something: those the document states itself.)
@schemathesis.hook("filter_case").apply_to(method="POST", path_regex=r"^/v1/stock/")
def stock_request_changes_something(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    if "from" in body and body.get("from") == body.get("to"):
        return False
    if case.path.endswith("/counts") and isinstance(body.get("lines"), list):
        # repr: a generated value may be a list or an object, which a set cannot hold.
        places = [
            repr((line.get("partNumber"), line.get("locationId")))
            for line in body["lines"]
            if isinstance(line, dict)
        ]
        if len(places) != len(set(places)):
            return False
    return True


# PUT /v1/staff/{id}: a generated superiorId names no one on file (a 422, rightly); generated staff
# report to no one. A superiorId that is not a staff id at all stays: the API must refuse it.
STAFF_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@schemathesis.hook("map_case").apply_to(method="PUT", path="/v1/staff/{id}")
def staff_without_an_unknown_superior(ctx, case):
    if isinstance(case.body, dict):
        superior = case.body.get("superiorId")
        if isinstance(superior, str) and STAFF_ID.match(superior):
            del case.body["superiorId"]
    return case


# POST /v1/tickets/{number}/offer-remedy: Schemathesis 4.32.5's coverage phase drew
# {"body": {...}, "kind": …} as schema-valid although the schema has additionalProperties false (the
# API answers 400 naming the unknown key). Which remedy names a part or months the document states.
@schemathesis.hook("filter_case").apply_to(method="POST", path_regex=r"/offer-remedy$")
def remedy_without_unknown_keys(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    return not set(body) - {"kind", "valueFen", "partNumber", "months", "note"}


# A quote prices its parts from the catalogue: a generated part number names no part on file (the
# API rightly answers 422 "not in the catalogue"). Quotes are drawn without parts.
@schemathesis.hook("filter_case").apply_to(method="POST", path_regex=r"/quote$")
def quote_without_unknown_parts(ctx, case):
    body = case.body if isinstance(case.body, dict) else {}
    parts = body.get("parts")
    return not (isinstance(parts, list) and any(isinstance(part, dict) for part in parts))
