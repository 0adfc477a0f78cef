from __future__ import annotations

from django.contrib.auth import views as auth_views


class StaffLoginView(auth_views.LoginView):
    """Django's login (sessions, CSRF); django-axes counts failures and locks out."""

    template_name = "workspace/login.html"
    redirect_authenticated_user = True


class StaffLogoutView(auth_views.LogoutView):
    next_page = "staff-login"
