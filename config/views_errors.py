"""Not-found answers: the friendly page for people, JSON for the API (an /api/ address no route matches, such as
/api/delegates/1.5/, would otherwise get the HTML page, which the API's schema does not declare)."""

from django.http import JsonResponse
from django.views import defaults


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
