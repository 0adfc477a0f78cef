"""Project middleware that replaces Django's own: it must behave as Django's does."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse

from clinic.middleware import MessageMiddleware


def _answer(rf, view, *, cookies: dict[str, str] | None = None):
    request = rf.get("/staff/")
    for name, value in (cookies or {}).items():
        request.COOKIES[name] = value
    SessionMiddleware(lambda request: HttpResponse()).process_request(request)
    response = MessageMiddleware(view)(request)
    return request, response


def test_a_message_added_by_a_view_is_shown_by_the_next_page(rf):
    def add(request):
        messages.success(request, "Reminder sent.")
        return HttpResponse()

    def show(request):
        return HttpResponse(" | ".join(str(message) for message in messages.get_messages(request)))

    _, added = _answer(rf, add)
    cookie = added.cookies[CookieStorage.cookie_name].value
    _, shown = _answer(rf, show, cookies={CookieStorage.cookie_name: cookie})
    _, after = _answer(rf, show)

    assert shown.content == b"Reminder sent."
    assert shown.cookies[CookieStorage.cookie_name].value == ""  # shown once, then cleared
    assert after.content == b""


def test_a_request_that_never_touches_messages_leaves_waiting_ones_alone(rf):
    def add(request):
        messages.info(request, "Saved.")
        return HttpResponse()

    def api(request):
        return HttpResponse("{}")

    _, added = _answer(rf, add)
    waiting = added.cookies[CookieStorage.cookie_name].value
    request, untouched = _answer(rf, api, cookies={CookieStorage.cookie_name: waiting})

    assert CookieStorage.cookie_name not in untouched.cookies
    assert [str(message) for message in messages.get_messages(request)] == ["Saved."]
