"""Access rules shared by the blueprints."""

import functools

from flask import Blueprint, abort, request
from flask_login import current_user

from consult.extensions import db, login_manager


def require_hq(blueprint: Blueprint, open_to: frozenset[str] = frozenset()) -> None:
    """Make every route of a blueprint headquarters' work; the endpoints in open_to check access themselves."""

    @blueprint.before_request
    def _require_hq():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if request.endpoint not in open_to and not current_user.is_hq:
            abort(403)
        return None


def hq_required(view):
    """One route that only headquarters uses, on a blueprint whose other pages are open to branches too."""

    @functools.wraps(view)
    def check(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_hq:
            abort(403)
        return view(*args, **kwargs)

    return check


def manager_required(model):
    """A route on one object (the `round_id` of the path) for those who run it (`model.can_manage(user)`):
    headquarters, or a prefecture's policy officer on its own sub-round. 404 for an unknown id, for HQ alike."""

    def decorate(view):
        @functools.wraps(view)
        def check(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            obj = db.session.get(model, kwargs.get("round_id") or 0)
            if obj is None:
                abort(404 if current_user.is_hq else 403)
            if not obj.can_manage(current_user):
                abort(403)
            return view(*args, **kwargs)

        return check

    return decorate
