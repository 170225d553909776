"""Issue 10, item 12: staff sign-in.

The probe kept a session cookie after logging out and replayed it (it stayed valid for
the rest of its 8 hours), sent 300 wrong passwords in 49 s (every one was answered), and
passed the CSRF check with a cookie and header of its own choosing (the check compared
the two, not either with the session).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from models import StaffUser
from tests.integration.helpers import new_national_id

from .conftest import StaffSignIn, Target


def _me(target: Target, signed: StaffSignIn, client=None):
    return (client or target.http).get("/v1/auth/me", headers=signed.headers())


def _new_pensioner(target: Target, signed: StaffSignIn, **headers: str):
    body = {"name": "赵大爷", "national_id": new_national_id(), "region_code": "110105"}
    return target.http.post("/v1/pensioners", json=body, headers={**signed.headers(), **headers})


def _login(client, username: str, password: str):
    return client.post("/v1/auth/login", json={"username": username, "password": password})


def _user(db, username: str) -> StaffUser:
    return db.scalar(select(StaffUser).where(StaffUser.username == username))


def test_a_cookie_replayed_after_logout_is_refused(target):
    target.staff("wang.staff")
    signed = target.sign_in("wang.staff")
    other_tablet = target.sign_in("wang.staff")
    assert _me(target, signed).status_code == 200

    assert target.http.post("/v1/auth/logout", headers=signed.headers()).status_code == 204

    replay = _me(target, signed)
    assert (replay.status_code, replay.json()["error"]["code"]) == (401, "unauthorized")
    assert _new_pensioner(target, signed).status_code == 401
    page = target.http.get("/staff/cases", headers=signed.headers(), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login")
    # logging out ends that sign-in only, not the same person's on another tablet
    assert _me(target, other_tablet).status_code == 200


def test_a_new_password_or_a_deactivated_account_ends_every_sign_in(target):
    from service.accounts import set_staff_active, set_staff_password

    target.staff("wang.staff")
    tablet, laptop = target.sign_in("wang.staff"), target.sign_in("wang.staff")
    with target.services.sessions() as db:
        set_staff_password(db, user=_user(db, "wang.staff"), password="a new long password",
                           now=target.services.clock())
        db.commit()
    for old in (tablet, laptop):
        assert _me(target, old).status_code == 401

    fresh = target.sign_in("wang.staff", "a new long password")
    assert _me(target, fresh).status_code == 200
    with target.services.sessions() as db:
        set_staff_active(db, user=_user(db, "wang.staff"), active=False, now=target.services.clock())
        db.commit()
    assert _me(target, fresh).status_code == 401
    refused = _login(target.http, "wang.staff", "a new long password")
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "login_failed")


def test_password_guessing_against_one_account_is_throttled(target):
    target.staff("wang.staff")
    codes = [_login(target.http, "wang.staff", f"guess-{i:04d}").status_code for i in range(40)]
    assert 429 in codes  # every guess used to be answered
    settings = target.services.settings
    free = settings.login_account_free_failures
    assert codes == [401] * free + [429] * (40 - free)

    # while throttled, even the right password is not tried (no oracle for the guesser),
    # and guessing from another address does not help
    throttled = _login(target.http, "wang.staff", "correct horse battery")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "login_throttled"
    wait_s = int(throttled.headers["Retry-After"])
    assert 0 < wait_s <= settings.login_backoff_max_s
    with target.client(local_address="127.0.0.2") as elsewhere:
        assert _login(elsewhere, "wang.staff", "guess-from-elsewhere").status_code == 429

    # a backoff, not a lock: once it has passed the member of staff signs in again
    target.advance_clock(wait_s + 1)
    assert _login(target.http, "wang.staff", "correct horse battery").status_code == 200
    assert _login(target.http, "wang.staff", "one typo").status_code == 401  # count reset


def test_a_burst_of_parallel_guesses_gets_no_more_tries(target):
    target.staff("wang.staff")
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda i: _login(target.http, "wang.staff", f"burst-{i}").status_code, range(32)))
    free = target.services.settings.login_account_free_failures
    assert sorted(codes) == [401] * free + [429] * (32 - free)
    assert len(target.services.login_locks) == 0  # no lock outlives its sign-in


def test_each_guess_past_the_free_ones_waits_longer(target):
    target.staff("wang.staff")
    codes = [_login(target.http, "wang.staff", f"guess-{i}").status_code for i in range(10)]
    assert codes[-1] == 429
    settings = target.services.settings
    waits = []
    for _ in range(3):
        throttled = _login(target.http, "wang.staff", "guess")
        assert throttled.status_code == 429
        waits.append(int(throttled.headers["Retry-After"]))
        target.advance_clock(waits[-1] + 1)
        assert _login(target.http, "wang.staff", "guess").status_code == 401
    assert waits[0] < waits[1] < waits[2] <= settings.login_backoff_max_s


def test_guessing_across_accounts_from_one_address_is_throttled(target):
    codes = [_login(target.http, f"user{i:03d}", "Winter2026!").status_code for i in range(40)]
    assert 429 in codes  # one address could try one password on every account
    free = target.services.settings.login_ip_free_failures
    assert codes == [401] * free + [429] * (40 - free)
    throttled = _login(target.http, "user999", "Winter2026!")
    assert throttled.json()["error"]["code"] == "login_throttled" and int(throttled.headers["Retry-After"]) > 0

    # staff signing in from another address are not held up by it
    target.staff("li.staff")
    with target.client(local_address="127.0.0.3") as office:
        assert _login(office, "li.staff", "correct horse battery").status_code == 200


def test_a_csrf_token_works_only_with_the_sign_in_it_was_issued_for(target):
    target.staff("wang.staff")
    target.staff("zhao.staff")
    victim, attacker = target.sign_in("wang.staff"), target.sign_in("zhao.staff")

    # a cookie and header pair the attacker chose (a planted cookie): used to pass
    planted = StaffSignIn(session=victim.session, csrf="attacker-chosen-value")
    refused = _new_pensioner(target, planted)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_failed")
    # the attacker's own valid token with the victim's session
    borrowed = StaffSignIn(session=victim.session, csrf=attacker.csrf)
    assert _new_pensioner(target, borrowed).json()["error"]["code"] == "csrf_failed"
    # logging the victim out needs the victim's token too
    assert target.http.post("/v1/auth/logout", headers=borrowed.headers()).status_code == 403
    assert _me(target, victim).status_code == 200

    assert _new_pensioner(target, victim).status_code == 201
    assert target.sign_in("wang.staff").csrf != victim.csrf
    # the pages' scripts still read the token from its cookie
    login = _login(target.http, "wang.staff", "correct horse battery")
    csrf_cookie = next(v for v in login.headers.get_list("set-cookie") if v.startswith("certify_csrf="))
    assert "httponly" not in csrf_cookie.lower()
