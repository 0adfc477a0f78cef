"""The staff workspace: the presentation layer for clinic staff (pages under ``/staff/``, the
staff JSON API under ``/api/v1/staff/``, their templates, reports and template tags).

It may import ``clinic``, ``bookings`` and ``reminders``; none of them imports it. Rules stay in
the services and selectors of those apps; the workspace calls them with ``actor=request.user``.
"""
