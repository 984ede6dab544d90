"""A coordinator's own account page: their personal API token (see config/tokens.py)."""

from django.shortcuts import render
from django.views import View

from config import tokens
from config.permissions import CoordinatorRequiredMixin


class AccountTokenView(CoordinatorRequiredMixin, View):
    """GET shows whether you have a token; POST creates (or replaces) or revokes it. A new key is shown once, in
    the answer to the POST: it is never stored, and the page is sent with Cache-Control: no-store."""

    template_name = "registration/account_token.html"

    def get(self, request):
        return self.render(request, token=tokens.personal_token(user=request.user))

    def post(self, request):
        if request.POST.get("action") == "revoke":
            tokens.revoke_personal_tokens(user=request.user)
            return self.render(request, token=None, revoked=True)
        token, key = tokens.rotate_personal_token(user=request.user)
        return self.render(request, token=token, new_key=key)

    def render(self, request, **context):
        return render(request, self.template_name, {"api_root": request.build_absolute_uri("/api/"), **context})
