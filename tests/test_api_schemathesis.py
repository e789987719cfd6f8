"""A property-based run over the whole OpenAPI document (schemathesis, in-process through WSGI).

Every operation of /api/v1/openapi.json gets generated requests, valid and invalid (schemathesis' positive and
negative modes), each sent with an admin's, a staff member's and a prefecture officer's token. A response passes
when it is not a 5xx and matches the document: its status is documented, its content type is the documented
one, its documented headers are there, and its body validates against the documented schema.

Path ids are partly mapped onto the ids of a real federation (api_support.build_world), so generated requests
reach real rounds, answers, opinions and letters as well as missing ones. Bounded to SCHEMATHESIS_EXAMPLES
examples per operation (40 by default: about a minute and a half per database on 2 cores).
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from api_support import build_world
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from consult import create_app
from consult.extensions import db

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))
ROLES = ("admin", "staff", "prefecture")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
STATS = {"cases": 0, "calls": 0, "statuses": {}, "started": time.monotonic()}


class _Factories:
    """make_org / make_user for a module-scoped app (the conftest's factories are per test)."""

    def __init__(self, app):
        self.app, self.n = app, 0

    def org(self, name=None, kind="prefecture", parent=None, code=None):
        from conftest import detach

        from consult.orgs.models import Organization

        self.n += 1
        with self.app.app_context():
            org = Organization(
                code=code or f"fuzz{self.n}",
                name=name or f"組織{self.n}",
                kind=kind,
                parent_id=getattr(parent, "id", None),
            )
            db.session.add(org)
            db.session.commit()
            return detach(org)

    def user(self, role="member", org=None, login=None, name=None):
        from conftest import _CHEAP_HASH, detach

        from consult.auth.models import User

        self.n += 1
        with self.app.app_context():
            user = User(
                login=login or f"fuzz{self.n}", name=name or f"利用者{self.n}", role=role, organization_id=org.id
            )
            user.password_hash = _CHEAP_HASH
            db.session.add(user)
            db.session.commit()
            return detach(user, "organization")


@pytest.fixture(scope="module")
def fuzz(database_url):
    from conftest import FakeClock, _empty_tables

    clock = FakeClock()
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "fuzz",
            "CLOCK": clock,
            "API_RATE_LIMIT": "1000000 per minute",
        }
    )
    STATS["started"] = time.monotonic()
    make = _Factories(app)
    hq = make.org("全日本自治団体労働組合", kind="hq", code="hq")
    world = build_world(app, make.org, make.user, hq, clock)
    world["app"] = app
    yield world
    with app.app_context():
        db.engine.dispose()
    _empty_tables(database_url)
    elapsed = time.monotonic() - STATS["started"]
    print(
        f"\nschemathesis: {STATS['cases']} generated cases, {STATS['calls']} requests in {elapsed:.0f} s; "
        f"statuses {dict(sorted(STATS['statuses'].items()))}"
    )


@pytest.fixture(scope="module")
def api_schema(fuzz):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz["app"])
    real = _real_ids(fuzz)

    @schema.hook
    def map_path_parameters(context, path_parameters):
        """Odd ids become real ones (each name its own kind of object), even ones stay as generated."""
        if not isinstance(path_parameters, dict):
            return path_parameters
        mapped = dict(path_parameters)
        for name, value in path_parameters.items():
            choices = real.get(name)
            if name in PINNED:  # the fuzzing users' own tokens and accounts stay usable
                mapped[name] = PINNED[name](fuzz)
            elif choices and isinstance(value, int) and value % 2:
                mapped[name] = choices[value % len(choices)]
        return mapped

    return schema


def _real_ids(world) -> dict[str, list[int]]:
    ids, orgs = world["ids"], world["orgs"]
    return {
        "round_id": [ids["round_id"], ids["draft_round_id"]],
        "organization_id": [orgs["tokyo"].id, orgs["hachioji"].id, orgs["osaka"].id],
        "item_id": [ids["item_id"], ids["request_item_id"]],
        "milestone_id": [ids["milestone_id"]],
        "attachment_id": [ids["attachment_id"]],
        "opinion_id": [ids["opinion_id"]],
        "campaign_id": [ids["campaign_id"]],
        "letter_id": [ids["letter_id"]],
        "addressee_id": [ids["addressee_id"]],
        "visit_id": [ids["visit_id"]],
        "file_id": [ids["file_id"]],
        "indicator_id": [ids["indicator_id"]],
        "template_id": [ids["template_id"]],
    }


# Ids that must not be generated freely: revoking the fuzzing users' tokens or disabling them would turn the
# rest of the run into 401s. Their operations still run, on the disabled user and on a token that is revoked.
PINNED = {
    "user_id": lambda world: world["users"]["disabled"].id,
    "token_id": lambda world: world["revoked_token_id"],
}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],  # generated cases only: the hook below maps every one of them
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_spec(case, fuzz):
    STATS["cases"] += 1
    for role in ROLES:
        response = case.call(headers={"Authorization": f"Bearer {fuzz['tokens'][role]}"})
        STATS["calls"] += 1
        STATS["statuses"][response.status_code] = STATS["statuses"].get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)
